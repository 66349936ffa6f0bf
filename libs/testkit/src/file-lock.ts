import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { execa, type Options } from 'execa';
import { AoinbError } from '@aoinb/errors';

/**
 * Runs `fn` while holding an exclusive flock(2) on `lockFile`, across processes
 * and within one process alike. Node cannot flock, so `flock(1)` takes the lock
 * on a file descriptor this process opened and hands down as fd 3: the lock
 * belongs to the open file description, stays after flock(1) exits, and is
 * released when this process closes the descriptor (or dies).
 */
export async function withFileLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  options: { timeoutSeconds?: number } = {},
): Promise<T> {
  await mkdir(path.dirname(lockFile), { recursive: true });
  const handle = await open(lockFile, 'a');
  try {
    const timeout = String(options.timeoutSeconds ?? 1800);
    // execa passes a descriptor number in stdio[3] through to the
    // child at run time; its types only list 3-9 literals there.
    const stdio = ['ignore', 'pipe', 'pipe', handle.fd] as unknown as Options['stdio'];
    const result = await execa('flock', ['--exclusive', '--wait', timeout, '3'], { stdio, reject: false });
    if (result.failed) {
      throw new AoinbError(
        'UNAVAILABLE',
        `could not lock ${lockFile} within ${timeout} ` +
          `s: ${(typeof result.stderr === 'string' && result.stderr) || result.shortMessage}`,
      );
    }
    return await fn();
  } finally {
    await handle.close();
  }
}
