import { access } from 'node:fs/promises';
import path from 'node:path';
import { packBundle, readGroup } from '@aoinb/bundle';
import { AoinbError } from '@aoinb/errors';
import type { FarmClient } from '@aoinb/farm-client';
import type { CreateGroupReply, CreateTaskReply } from '@aoinb/farm-contract';
import { uploadBundle } from './upload-bundle.ts';

export interface GroupMemberEntry {
  /** `category/pkgname` in the tree. */
  path: string;
  /** Only these archs (per-arch group files list it for some archs only); undefined: every arch. */
  archs?: string[];
}

/**
 * Reads `groups/NAME` from an ABBS tree (comments, nested groups, `:modifier`
 * suffixes). With archs, each arch's variant (`groups/NAME.<arch>`) is read
 * and a member listed for some archs only builds on those.
 */
export async function readGroupMembers(tree: string, group: string, archs: string[]): Promise<GroupMemberEntry[]> {
  if (archs.length === 0) return (await readGroup(tree, group)).map((e) => ({ path: e.path }));
  const perArch = new Map<string, string[]>();
  const order: string[] = [];
  for (const arch of archs) {
    for (const entry of await readGroup(tree, group, arch)) {
      if (!perArch.has(entry.path)) order.push(entry.path);
      perArch.set(entry.path, [...(perArch.get(entry.path) ?? []), arch]);
    }
  }
  return order.map((p) => {
    const listed = perArch.get(p) as string[];
    return listed.length === archs.length ? { path: p } : { path: p, archs: listed };
  });
}

/**
 * Creates a task for one member and uploads its bundle (`<tree>/<category>/<pkgname>`), packed as `aoinb submit` does.
 */
async function uploadMember(
  client: FarmClient,
  tree: string,
  group: string,
  entry: GroupMemberEntry,
  branch: string,
  signal: AbortSignal,
  created: string[],
): Promise<string> {
  const dir = path.join(tree, entry.path);
  await access(path.join(dir, 'spec')).catch(() => {
    throw new AoinbError('GROUP_INVALID', `${group} lists ${entry.path}, but ${dir} has no spec`);
  });
  const tar = await packBundle(dir);
  const { id } = await client.json<CreateTaskReply>('POST', '/task', { branch }, signal);
  created.push(id);
  await uploadBundle(client, id, tar, signal);
  return id;
}

export interface GroupSubmission {
  tree: string;
  group: string;
  branch: string;
  archs: string[];
  mode: 'dag' | 'sequential';
  publish: 'each' | 'atomic';
  /** Every member asks for a build network. */
  network?: boolean;
  signal: AbortSignal;
  onProgress(line: string): void;
}

/** Packs and uploads every member's bundle (four at a time), then creates the group. */
export async function submitGroup(
  client: FarmClient,
  s: GroupSubmission,
): Promise<{ id: string; tasks: Array<{ id: string; path: string }> }> {
  const entries = await readGroupMembers(s.tree, s.group, s.archs);
  if (entries.length === 0) throw new AoinbError('GROUP_INVALID', `${s.group} lists no package`);
  const ids = new Array<string>(entries.length);
  const created: string[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < entries.length && !failed) {
      const i = next++;
      const entry = entries[i] as GroupMemberEntry;
      ids[i] = await uploadMember(client, s.tree, s.group, entry, s.branch, s.signal, created).catch(
        (error: unknown) => {
          failed = true;
          throw error;
        },
      );
      s.onProgress(`uploaded ${entry.path} as task ${ids[i]}`);
    }
  };
  try {
    // Every uploader stops before the cleanup below, so none creates a task after it.
    const uploads = await Promise.allSettled(Array.from({ length: Math.min(4, entries.length) }, worker));
    const refused = uploads.find((u) => u.status === 'rejected');
    if (refused) throw refused.reason;
    const tasks = entries.map((e, i) => (e.archs ? { id: ids[i] as string, archs: e.archs } : (ids[i] as string)));
    const body = {
      branch: s.branch,
      tasks,
      mode: s.mode,
      publish: s.publish,
      ...(s.archs.length > 0 ? { archs: s.archs } : {}),
      ...(s.network ? { network: true } : {}),
    };
    const group = await client.json<CreateGroupReply>('POST', '/group', body, s.signal);
    return { id: group.id, tasks: entries.map((e, i) => ({ id: ids[i] as string, path: e.path })) };
  } catch (error) {
    // No orphans: the member tasks of a group that was not created are deleted again.
    await Promise.all(created.map((id) => client.raw('DELETE', `/task/${id}`).catch(() => undefined)));
    throw error;
  }
}
