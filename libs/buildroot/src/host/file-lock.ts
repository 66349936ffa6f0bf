import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * A cross-process reader/writer lock on a file, held by a `flock` child whose
 * stdin is our pipe: if this process dies, even by SIGKILL, the pipe closes, the
 * child exits and the kernel drops the lock. No stale lock files, ever.
 */
export async function acquireLock(file: string, mode: 'shared' | 'exclusive', signal?: AbortSignal): Promise<HeldLock> {
  const lock = await lockWith(file, [mode === 'shared' ? '--shared' : '--exclusive'], signal);
  if (!lock) throw new Error(`could not lock ${file}`);
  return lock;
}

/** The lock now, or `undefined` at once if someone else holds it (e.g. a layer in use). */
export async function tryAcquireLock(file: string, mode: 'shared' | 'exclusive'): Promise<HeldLock | undefined> {
  return lockWith(file, [mode === 'shared' ? '--shared' : '--exclusive', '--nonblock', '--conflict-exit-code', '75']);
}

async function lockWith(file: string, flags: string[], signal?: AbortSignal): Promise<HeldLock | undefined> {
  await mkdir(path.dirname(file), { recursive: true });
  const holder: ResultPromise = execa('flock', [...flags, file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    cancelSignal: signal,
  });
  const lines = createInterface({ input: holder.stdout! });
  const locked = await new Promise<boolean>((resolve) => {
    lines.once('line', () => resolve(true));
    lines.once('close', () => resolve(false));
  });
  lines.close();
  if (!locked) {
    const result = await holder;
    if (result.exitCode === 75 && flags.includes('--nonblock')) return undefined;
    const why = String(result.stderr).trim() || (signal?.aborted ? 'aborted' : `flock exited ${result.exitCode}`);
    throw new Error(`could not lock ${file}: ${why}`);
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      holder.stdin!.end();
      await holder;
    },
  };
}

/** Runs `fn` while holding the lock. */
export async function withLock<T>(
  file: string,
  mode: 'shared' | 'exclusive',
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const lock = await acquireLock(file, mode, signal);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
