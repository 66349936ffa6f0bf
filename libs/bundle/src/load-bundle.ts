import path from 'node:path';
import { allowedArchs, packageDenies, type ArchFilterOptions } from './arch-filter.ts';
import { checkBundleNames } from './bundle-names.ts';
import { definesFileFor, findPackageDirs, readBundleFile, type BundleLayout } from './bundle-files.ts';
import { parseDefines, type Defines } from './defines.ts';
import { definesContext } from './defines-context.ts';
import { mergeEnvReq, type EnvReq } from './envreq.ts';
import { parseSpec, type Spec } from './spec.ts';
import type { Source } from './sources.ts';

export interface BundlePackage {
  /** Build order from the `NN-` folder prefix; 0 for a single-package bundle. */
  order: number;
  /** Folder with this package's defines and prepare/build/beyond/patches, relative to the bundle. */
  scriptDir: string;
  /** The defines file read for this arch (`autobuild/defines`, or an arch-specific one). */
  definesFile: string;
  defines: Defines;
  /** `PKGNAME`. */
  name: string;
  noarch: boolean;
  /** Whether FAIL_ARCH/ALLOW_ARCH let this package build on the bundle's arch. */
  buildable: boolean;
  /** Names in BUILDDEP and PKGDEP (for this arch), without duplicates. */
  dependsOn: string[];
  /** PKGNAME and the names in PKGPROV. */
  provides: string[];
}

export interface Bundle {
  /** Absolute path of the bundle folder. */
  dir: string;
  /** The architecture the bundle was read for (overrides resolved, sources chosen). */
  arch: string;
  layout: BundleLayout;
  spec: Spec;
  /** Every package, in build order. */
  packages: BundlePackage[];
  /** The first package in build order. */
  mainPackage: BundlePackage;
  /** Every package is `ABHOST=noarch`. */
  isNoarch: boolean;
  /** At least one package may be built on `arch` (always true when noarch). */
  archAllowed: boolean;
  /** The sources for `arch`. */
  sources: Source[];
  /** ENVREQ from spec and every defines, the largest of each requirement. */
  envreq: EnvReq;
  /** BUILDDEP and PKGDEP names of all packages, minus what the bundle itself provides. */
  dependencyNames: string[];
  /** Every PKGNAME and PKGPROV name of the bundle. */
  provides: string[];
}

export type LoadBundleOptions = ArchFilterOptions;

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

async function loadPackage(
  root: string,
  dir: { order: number; scriptDir: string },
  spec: Spec,
  arch: string,
  options: LoadBundleOptions,
): Promise<BundlePackage> {
  const definesFile = await definesFileFor(root, dir.scriptDir, arch);
  const context = definesContext(spec);
  const defines = parseDefines(await readBundleFile(root, definesFile), { file: definesFile, arch, ...context });
  const names = (key: 'PKGDEP' | 'BUILDDEP' | 'PKGPROV'): string[] => defines.deps[key].map((d) => d.name);
  return {
    order: dir.order,
    scriptDir: dir.scriptDir,
    definesFile,
    defines,
    name: defines.name,
    noarch: defines.noarch,
    buildable: defines.noarch || packageDenies(defines, arch, options) === undefined,
    dependsOn: unique([...names('BUILDDEP'), ...names('PKGDEP')]),
    provides: unique([defines.name, ...names('PKGPROV')]),
  };
}

/**
 * Reads a bundle folder statically for one target architecture: `spec`, the
 * package layout, each package's defines (arch-specific file and `__ARCH`
 * overrides resolved), sources and requirements. Errors are AoinbErrors
 * naming the file (relative to the bundle), line and key.
 */
export async function loadBundle(dir: string, arch: string, options: LoadBundleOptions = {}): Promise<Bundle> {
  const root = path.resolve(dir);
  const specText = await readBundleFile(root, 'spec');
  let spec = parseSpec(specText, { arch, allowMissingSources: true });
  const { layout, packages: dirs } = await findPackageDirs(root);
  const packages: BundlePackage[] = [];
  for (const d of dirs) packages.push(await loadPackage(root, d, spec, arch, options));
  const isNoarch = packages.every((p) => p.noarch);
  const decision = allowedArchs(
    packages.map((p) => p.defines),
    [arch],
    options,
  );
  const archAllowed = decision.kind === 'noarch' || decision.allowed.length > 0;
  if (archAllowed && spec.sources.length === 0 && !spec.dummySrc) spec = parseSpec(specText, { arch });
  checkBundleNames(spec, packages);
  const provides = unique(packages.flatMap((p) => p.provides));
  const dependencyNames = unique(packages.flatMap((p) => p.dependsOn)).filter((n) => !provides.includes(n));
  return {
    dir: root,
    arch,
    layout,
    spec,
    packages,
    mainPackage: packages[0] as BundlePackage,
    isNoarch,
    archAllowed,
    sources: spec.sources,
    envreq: mergeEnvReq(spec.envreq, ...packages.map((p) => p.defines.envreq)),
    dependencyNames,
    provides,
  };
}
