import path from 'node:path';
import { packBundle, packTreeBundles } from '@aoinb/bundle';

/** A bundle ready to upload, and how messages name it. */
export interface PackedBundle {
  label: string;
  archive: Buffer;
}

/**
 * What `aoinb submit` uploads: with `tree`, the packages named by `args`
 * (names or category/name, as acbs takes them) packed from that ABBS tree;
 * otherwise `args` are bundle folders. Everything is resolved and packed
 * before the first task is created, so a bad name leaves no task behind.
 */
export async function packForSubmit(tree: string | undefined, args: readonly string[]): Promise<PackedBundle[]> {
  if (tree !== undefined) {
    return (await packTreeBundles(tree, args)).map((b) => ({
      label: b.ref === b.path ? b.path : `${b.ref} (${b.path})`,
      archive: b.archive,
    }));
  }
  const out: PackedBundle[] = [];
  for (const dir of args) out.push({ label: dir, archive: await packBundle(path.resolve(dir)) });
  return out;
}
