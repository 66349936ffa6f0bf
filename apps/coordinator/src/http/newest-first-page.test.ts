import { describe, expect, it } from 'vitest';
import { newestFirstPage } from './newest-first-page.ts';

/** Ids 1..n as the stores list them (newest first, below `before`), and what was read. */
function list(n: number, gone: string[] = []) {
  const reads: number[] = [];
  const all = Array.from({ length: n }, (_, i) => String(n - i));
  return {
    reads,
    ids: async (count: number, before?: string) => {
      reads.push(count);
      return all.filter((id) => before === undefined || Number(id) < Number(before)).slice(0, count);
    },
    records: async (ids: string[]) =>
      ids.map((id) => (gone.includes(id) ? undefined : { id, even: Number(id) % 2 === 0 })),
  };
}

describe('newestFirstPage', () => {
  it('pages without filters reading only a page worth of ids, and ends with next null', async () => {
    const l = list(5);
    const first = await newestFirstPage({ limit: 2, filtered: false, keep: () => true, ...l });
    expect(first).toEqual({
      found: [expect.objectContaining({ id: '5' }), expect.objectContaining({ id: '4' })],
      next: '4',
    });
    expect(l.reads).toEqual([2]);
    const second = await newestFirstPage({ limit: 2, before: '4', filtered: false, keep: () => true, ...l });
    expect(second.found.map((r) => r.id)).toEqual(['3', '2']);
    const last = await newestFirstPage({ limit: 2, before: '2', filtered: false, keep: () => true, ...l });
    expect(last).toEqual({ found: [expect.objectContaining({ id: '1' })], next: null });
  });

  it('filters while scanning, 200 ids at a time, and passes over records gone meanwhile', async () => {
    const l = list(450, ['448', '446']);
    const page = await newestFirstPage({ limit: 3, filtered: true, keep: (r) => r.even, ...l });
    expect(page).toEqual({ found: ['450', '444', '442'].map((id) => ({ id, even: true })), next: '442' });
    expect(l.reads).toEqual([200]);
    const odd = await newestFirstPage({ limit: 1000, filtered: true, keep: (r) => !r.even, ...l });
    expect(odd.found).toHaveLength(225);
    expect(odd.next).toBeNull();
    expect(l.reads.slice(1)).toEqual([200, 200, 200, 200]);
  });

  it('a run of gone records does not hold the cursor back', async () => {
    const l = list(3, ['3', '2']);
    expect(await newestFirstPage({ limit: 1, filtered: false, keep: () => true, ...l })).toEqual({
      found: [{ id: '1', even: false }],
      next: '1',
    });
  });

  it('looks at no more than 5000 records for one page', async () => {
    const l = list(6000);
    const page = await newestFirstPage({ limit: 10, filtered: true, keep: () => false, ...l });
    expect(page).toEqual({ found: [], next: '1001' });
  });
});
