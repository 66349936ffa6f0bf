export type { Source as SourceToFetch } from '@aoinb/bundle';

/** What ends up in `/buildroot/sources/`, listed in its `manifest` for the toolbox. */
export interface PreparedSource {
  kind: 'archive' | 'file' | 'dir';
  name: string;
  /** Served from the host cache without a download. */
  cached: boolean;
}
