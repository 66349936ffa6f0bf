/** One source of a bundle, as the pipeline needs it (the bundle model maps onto this). */
export interface SourceToFetch {
  type: string;
  url: string;
  options: Record<string, string>;
  /** `undefined` for `SKIP` (VCS sources). */
  checksum?: { algorithm: string; digest: string };
}

/** What ends up in `/buildroot/sources/`, listed in its `manifest` for the toolbox. */
export interface PreparedSource {
  kind: 'archive' | 'file' | 'dir';
  name: string;
  /** Served from the host cache without a download. */
  cached: boolean;
}
