/** Where the test kit caches what is slow to make (the test base OS, the unpacked ABBS snapshot). */
export const defaultTestkitCacheDir = '/var/cache/aoinb-testkit';
