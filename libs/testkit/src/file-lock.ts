import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';

/**
 * Runs `fn` while holding an exclusive flock(2) on `lockFile`, across processes
 * and within one process alike. Node cannot flock, so `flock(1)` takes the lock
 * on a file descriptor this process opened and hands down as fd 3: the lock
 * belongs to the open file description, stays after flock(1) exits, and is
 * released when this process closes the descriptor (or dies).
 */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, options: { timeoutSeconds?: number } = {}): Promise<T> {
  await mkdir(path.dirname(lockFile), { recursive: true });
  const handle = await open(lockFile, 'a');
  try {
    const timeout = String(options.timeoutSeconds ?? 1800);
    const result = await execa('flock', ['--exclusive', '--wait', timeout, '3'], {
      stdio: ['ignore', 'pipe', 'pipe', handle.fd],
      reject: false,
    });
    if (result.failed) {
      throw new AoinbError('UNAVAILABLE', `could not lock ${lockFile} within ${timeout} s: ${result.stderr || result.shortMessage}`);
    }
    return await fn();
  } finally {
    await handle.close();
  }
}
