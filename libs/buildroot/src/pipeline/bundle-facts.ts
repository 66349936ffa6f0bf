import { checkPathComponent, checkRelativePath, loadBundle, type EnvReq } from '@aoinb/bundle';
import { AoinbError } from '@aoinb/errors';
import type { SourceToFetch } from '../sources/source-types.ts';
import type { ArtifactRules } from './collect-debs.ts';

/** What the pipeline needs from a bundle, read statically on the host. */
export interface BundleFacts {
  /** What the build may leave in /buildroot/output (collect-debs.ts checks each .deb against it). */
  artifacts: ArtifactRules;
  name: string;
  /** `[EPOCH:]VER-REL`, as in the package's Version field. */
  version: string;
  pkgver: string;
  pkgrel: string;
  epoch: string;
  /** `noarch` for architecture-independent packages, else the target arch. */
  packageArch: string;
  subdir: string;
  sources: SourceToFetch[];
  /** BUILDDEP and PKGDEP names (this arch), minus what the bundle provides: installed before the build. */
  dependencies: string[];
  envreq: EnvReq;
}

export async function readBundleFacts(bundleDir: string, arch: string): Promise<BundleFacts> {
  const bundle = await loadBundle(bundleDir, arch);
  const { spec } = bundle;
  if (!bundle.archAllowed) {
    throw new AoinbError(
      'ARCH_NOT_ALLOWED',
      `${bundle.mainPackage.definesFile}: FAIL_ARCH/ALLOW_ARCH do not allow ` +
        `building ${bundle.mainPackage.name} on ${arch}`,
    );
  }
  // Epoch 0 is no epoch: dpkg omits it from the Version field.
  const rawEpoch = spec.epoch ?? bundle.mainPackage.defines.epoch ?? '';
  const epoch = rawEpoch === '0' ? '' : rawEpoch;
  const packages = bundle.packages.map((p) => {
    const e = spec.epoch ?? p.defines.epoch ?? '';
    return { name: p.name, epoch: e === '0' ? '' : e, noarch: p.noarch };
  });
  const version = `${epoch ? `${epoch}:` : ''}${spec.version}-${spec.release}`;
  // The build record's file name is made of these: one checked component.
  checkPathComponent(
    `${bundle.mainPackage.name}_${version}_${bundle.isNoarch ? 'noarch' : arch}.build.json`,
    'package name and version',
  );
  checkRelativePath(spec.subdir ?? '', 'spec: SUBDIR');
  return {
    artifacts: { arch, upstreamVersion: spec.version, release: spec.release, packages },
    name: bundle.mainPackage.name,
    version,
    pkgver: spec.version,
    pkgrel: spec.release,
    epoch,
    packageArch: bundle.isNoarch ? 'noarch' : arch,
    subdir: spec.subdir ?? '',
    sources: spec.dummySrc ? [] : bundle.sources,
    dependencies: bundle.dependencyNames,
    envreq: bundle.envreq,
  };
}
