import type { GroupMember, GroupStatus } from '@aoinb/farm-contract';
import type { FarmHarness } from './farm-harness.ts';
import { farmTokens } from './farm-options.ts';

// `GET /group/:id/status` as the tests read it: the contract's types.
export type { GroupMember as GroupMemberStatus, GroupStatus } from '@aoinb/farm-contract';

const maintainer = { token: farmTokens.maintainer };

/** Creates a task per bundle (upload only, no build) and returns their ids in order. */
export async function uploadTasks(farm: FarmHarness, archives: Uint8Array[]): Promise<string[]> {
  const ids: string[] = [];
  for (const archive of archives) {
    const created = await farm.api('POST', '/task', undefined, maintainer);
    const id = (created.body as { id: string }).id;
    const upload = await farm.api('PUT', `/task/${id}/build_bundle`, archive, maintainer);
    if (upload.status >= 300) throw new Error(`upload failed: ${upload.status} ${upload.text}`);
    ids.push(id);
  }
  return ids;
}

export async function postGroup(
  farm: FarmHarness,
  body: Record<string, unknown>,
): Promise<{ status: number; body: unknown; text: string }> {
  return farm.api('POST', '/group', body, maintainer);
}

export async function groupStatus(farm: FarmHarness, id: string): Promise<GroupStatus> {
  return (await farm.api('GET', `/group/${id}/status`)).body as GroupStatus;
}

export async function waitForGroup(
  farm: FarmHarness,
  id: string,
  states: string[],
  timeoutMs = 180_000,
  intervalMs = 100,
): Promise<GroupStatus> {
  let last: GroupStatus | undefined;
  await farm.waitFor(
    async () => {
      last = await groupStatus(farm, id);
      return states.includes(last.state);
    },
    timeoutMs,
    `group ${id} to be ${states.join('|')}`,
    () => JSON.stringify(last?.members.map((m) => [m.package, m.arch, m.state, m.reason])),
    intervalMs,
  );
  return last!;
}

export function member(status: GroupStatus, pkg: string, arch?: string): GroupMember {
  const found = status.members.find((m) => m.package === pkg && (!arch || m.arch === arch));
  if (!found) throw new Error(`group ${status.id} has no member ${pkg}${arch ? ` (${arch})` : ''}`);
  return found;
}

export function ms(iso: string | null): number {
  return iso ? Date.parse(iso) : Number.NaN;
}
