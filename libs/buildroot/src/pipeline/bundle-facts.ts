import { loadBundle } from '@aoinb/bundle';
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
}

export async function readBundleFacts(bundleDir: string, arch: string): Promise<BundleFacts> {
  const bundle = await loadBundle(bundleDir, arch);
  const { spec } = bundle;
  const epoch = spec.epoch ?? bundle.mainPackage.epoch ?? '';
  return {
    name: bundle.mainPackage.name,
    version: `${epoch ? `${epoch}:` : ''}${spec.version}-${spec.release}`,
    pkgver: spec.version,
    pkgrel: spec.release,
    epoch,
    packageArch: bundle.isNoarch ? 'noarch' : arch,
    subdir: spec.subdir ?? '',
    sources: spec.dummySrc ? [] : spec.sources,
  };
}
