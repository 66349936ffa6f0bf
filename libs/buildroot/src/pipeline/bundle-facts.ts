import { loadBundle, type EnvReq } from '@aoinb/bundle';
import { AoinbError } from '@aoinb/errors';
import type { SourceToFetch } from '../sources/source-types.ts';

/** What the pipeline needs from a bundle, read statically on the host. */
export interface BundleFacts {
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
    throw new AoinbError('ARCH_NOT_ALLOWED', `${bundle.mainPackage.definesFile}: FAIL_ARCH/ALLOW_ARCH do not allow building ${bundle.mainPackage.name} on ${arch}`);
  }
  // Epoch 0 is no epoch: dpkg omits it from the Version field.
  const rawEpoch = spec.epoch ?? bundle.mainPackage.defines.epoch ?? '';
  const epoch = rawEpoch === '0' ? '' : rawEpoch;
  return {
    name: bundle.mainPackage.name,
    version: `${epoch ? `${epoch}:` : ''}${spec.version}-${spec.release}`,
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
