import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

/** The build's log: every line goes to the log file and to the live listener. */
export interface BuildLog {
  file: string;
  line(text: string): void;
  close(): Promise<void>;
}

export async function openBuildLog(file: string, onLine?: (line: string) => void): Promise<BuildLog> {
  await mkdir(path.dirname(file), { recursive: true });
  const stream: WriteStream = createWriteStream(file, { flags: 'a' });
  return {
    file,
    line(text) {
      stream.write(`${text}\n`);
      onLine?.(text);
    },
    close: () => new Promise<void>((resolve) => stream.end(resolve)),
  };
}
