import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killStrayProcesses } from './stray-processes.ts';

const children: ChildProcess[] = [];
/** `sh -c 'sleep 300; :' ARG0` in its own process group (the whole group is killed after each test). */
function start(arg0: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn('sh', ['-c', 'sleep 300; :', arg0], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
    detached: true,
  });
  children.push(child);
  return child;
}
const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;
const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
  alive(child)
    ? new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
    : Promise.resolve(child.signalCode);

afterEach(() => {
  for (const child of children.splice(0))
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
});

describe('killStrayProcesses', () => {
  it("kills what names the farm's folder in its environment or command line, and nothing else", async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'aoinb-stray-'));
    try {
      const byEnv = start('gpg', { GNUPGHOME: path.join(root, 'storage/signing') });
      const byArgs = start(path.join(root, 'storage/signing'));
      const neighbour = start(`${root}-other/signing`, { GNUPGHOME: `${root}-other/signing` });
      await killStrayProcesses(root);
      expect(await exited(byEnv)).toBe('SIGKILL');
      expect(await exited(byArgs)).toBe('SIGKILL');
      expect(alive(neighbour)).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
