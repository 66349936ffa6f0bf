/** How many records one page may look at, whatever its filters keep. */
const maxScan = 5000;

/** A list of records by id (task or group ids, newest first) and the filters of one page. */
export interface PageScan<T> {
  limit: number;
  /** The id to start below (the `next` of the page before); absent: from the newest. */
  before?: string;
  /** Whether `keep` can drop records: then ids are read 200 at a time, else a page's worth. */
  filtered: boolean;
  /** Up to `count` ids below `before`, newest first. */
  ids(count: number, before?: string): Promise<string[]>;
  /** The records of `ids`, in their order (undefined: gone meanwhile). */
  records(ids: string[]): Promise<Array<T | undefined>>;
  keep(record: T): boolean;
}

/**
 * One page of a newest-first list, filters applied while scanning and at most `maxScan`
 * records looked at. `next` is the id to ask the following page from; null once the list
 * is exhausted.
 */
export async function newestFirstPage<T>(scan: PageScan<T>): Promise<{ found: T[]; next: string | null }> {
  const found: T[] = [];
  let cursor = scan.before;
  let scanned = 0;
  while (found.length < scan.limit && scanned < maxScan) {
    // Unfiltered, every record read is shown: read a page's worth, not 200 to show 50 (a dashboard polls this).
    const ids = await scan.ids(scan.filtered ? 200 : scan.limit - found.length, cursor);
    if (ids.length === 0) return { found, next: null };
    const records = await scan.records(ids);
    for (const [i, id] of ids.entries()) {
      scanned += 1;
      cursor = id;
      const record = records[i];
      if (!record || !scan.keep(record)) continue;
      found.push(record);
      if (found.length === scan.limit) break;
    }
  }
  return { found, next: cursor ?? null };
}
