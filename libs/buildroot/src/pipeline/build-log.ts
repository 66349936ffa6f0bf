import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

/** The build's log: every line goes to the log file and to the live listener. */
export interface BuildLog {
  file: string;
  line(text: string): void;
  /** The first error writing the file (ENOSPC on a full work dir), if any: the build fails with it. */
  readonly error: Error | undefined;
  /** Flushes and closes the file; never throws (a write error is in `error`). */
  close(): Promise<void>;
}

/**
 * Opens the log file. A write error (a full disk) must not kill the worker
 * process: it is recorded, the file is abandoned, and the live listener keeps
 * getting every line, so the build's log still reaches the farm.
 */
export async function openBuildLog(file: string, onLine?: (line: string) => void): Promise<BuildLog> {
  await mkdir(path.dirname(file), { recursive: true });
  const stream: WriteStream = createWriteStream(file, { flags: 'a' });
  let error: Error | undefined;
  stream.on('error', (e: Error) => {
    error ??= e;
  });
  return {
    file,
    get error() {
      return error;
    },
    line(text) {
      if (!error && !stream.destroyed) stream.write(`${text}\n`);
      onLine?.(text);
    },
    // Resolves on 'close', which follows 'error': end()'s own callback can run with a write's error before the
    // 'error' event (writes still waiting for the file to open fail at once), and `error` would read unset.
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.closed) return resolve();
        stream.once('close', () => resolve());
        if (error || stream.destroyed) stream.destroy();
        else stream.end();
      }),
  };
}
