import { access, readdir } from 'node:fs/promises';
import { AoinbError } from '@aoinb/errors';
import { layoutOf, type BuildrootContext } from '../context.ts';
import { withLock } from '../host/file-lock.ts';
import { baseosLockName } from './baseos.ts';
import { discardDepLayers } from './dep-layers.ts';
import { discardDir } from './discard.ts';
import { assertBranchName } from '@aoinb/config';

export type CleanupTarget = 'all' | 'baseos' | 'dep-layers' | string;

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

async function listInstances(ctx: BuildrootContext): Promise<string[]> {
  return (await readdir(layoutOf(ctx).instancesDir).catch(() => [] as string[])).sort();
}

/**
 * The seed's `cleanup`: `all` destroys every instance, the base OS, the
 * dependency layers and the shared apt archive cache; `baseos` the base OS (and
 * the dependency layers made on it); `dep-layers` only the dependency layers; any
 * other name that instance and its dependency layers (an unknown name is an
 * error). Mounts are released first; running builds are waited for through the locks.
 */
export async function cleanup(ctx: BuildrootContext, target: CleanupTarget, signal?: AbortSignal): Promise<string[]> {
  const layout = layoutOf(ctx);
  const destroyed: string[] = [];
  const layers = (keys: string[]) => (keys.length > 0 ? [`${keys.length} dependency layer(s)`] : []);
  if (target === 'dep-layers') return layers(await discardDepLayers(layout, () => true, { wait: true, signal }));
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
        if (await exists(layout.baseos)) {
          await discardDir(layout, layout.baseos);
          destroyed.push('baseos');
        }
        destroyed.push(...layers(await discardDepLayers(layout, () => true, { wait: true, signal })));
        if (target === 'all' && (await exists(layout.aptCacheDir))) {
          await withLock(layout.lock('apt-cache'), 'exclusive', () => discardDir(layout, layout.aptCacheDir), signal);
          destroyed.push('apt archive cache');
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
  const dropped = await withLock(
    layout.lock(`instance-${target}`),
    'exclusive',
    async () => {
      await discardDir(layout, layout.instance(target).dir);
      return discardDepLayers(layout, (m) => m.branch === target, { wait: true, signal });
    },
    signal,
  );
  return [`instance ${target}`, ...layers(dropped)];
}
