import { checkPathComponent, checkRelativePath } from './safe-path.ts';
import type { Spec } from './spec.ts';

interface NamedPackage {
  scriptDir: string;
  definesFile: string;
  name: string;
}

/**
 * Applies the one path rule (safe-path.ts) to every name a bundle gives the
 * host: `SUBDIR`, each source's `rename=`, each package folder and `PKGNAME`.
 * Run by loadBundle, so a hostile name is refused at submission, long before
 * the pipeline joins it to a folder (the pipeline checks again where it does).
 */
export function checkBundleNames(spec: Spec, packages: readonly NamedPackage[]): void {
  if (spec.subdir !== undefined) checkRelativePath(spec.subdir, `${spec.vars.where('SUBDIR')}: SUBDIR`);
  spec.sources.forEach((source, i) => {
    if (source.options.rename !== undefined)
      checkPathComponent(source.options.rename, `${spec.file}: SRCS (source ${i + 1}) rename=`);
  });
  for (const p of packages) {
    checkRelativePath(p.scriptDir, 'package folder');
    checkPathComponent(p.name, `${p.definesFile}: PKGNAME`);
  }
}
