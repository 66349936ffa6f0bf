import { access, readdir } from 'node:fs/promises';
import { AoinbError } from '@aoinb/errors';
import { layoutOf, type BuildrootContext } from '../context.ts';
import { withLock } from '../host/file-lock.ts';
import { baseosLockName } from './baseos.ts';
import { discardDir } from './discard.ts';
import { assertBranchName } from '@aoinb/config';

export type CleanupTarget = 'all' | 'baseos' | string;

async function listInstances(ctx: BuildrootContext): Promise<string[]> {
  return (await readdir(layoutOf(ctx).instancesDir).catch(() => [] as string[])).sort();
}

/**
 * The seed's `cleanup`: `all` destroys every instance and the base OS, `baseos`
 * the base OS, any other name that instance (an unknown name is an error).
 * Mounts are released first; running builds are waited for through the locks.
 */
export async function cleanup(ctx: BuildrootContext, target: CleanupTarget, signal?: AbortSignal): Promise<string[]> {
  const layout = layoutOf(ctx);
  const destroyed: string[] = [];
  if (target === 'all' || target === 'baseos') {
    await withLock(
      layout.lock(baseosLockName),
      'exclusive',
      async () => {
        if (target === 'all') {
          for (const branch of await listInstances(ctx)) {
            await discardDir(layout, layout.instance(branch).dir);
            destroyed.push(`instance ${branch}`);
          }
        }
        if (
          await access(layout.baseos).then(
            () => true,
            () => false,
          )
        ) {
          await discardDir(layout, layout.baseos);
          destroyed.push('baseos');
        }
      },
      signal,
    );
    return destroyed;
  }
  assertBranchName(target);
  const instances = await listInstances(ctx);
  if (!instances.includes(target)) {
    const known = instances.length > 0 ? `existing instances: ${instances.join(', ')}` : 'there are no instances';
    throw new AoinbError('INSTANCE_NOT_FOUND', `no instance named ${target} (${known})`);
  }
  await withLock(
    layout.lock(`instance-${target}`),
    'exclusive',
    () => discardDir(layout, layout.instance(target).dir),
    signal,
  );
  return [`instance ${target}`];
}
