import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { prettyFactory } from 'pino-pretty';
import type { Palette } from '../colours.ts';

export type LogFormat = 'pretty' | 'json';

/** `auto` is pretty on a terminal and JSON elsewhere (a file, journald, a log shipper). */
export function resolveLogFormat(asked: 'auto' | LogFormat, out: { isTTY?: boolean }): LogFormat {
  return asked === 'auto' ? (out.isTTY ? 'pretty' : 'json') : asked;
}

/**
 * Turns one line of a child's pino output into what the operator sees: with `pretty`,
 * `12:00:01 INFO  coordinator  job claimed {taskId: "3"}` (coloured when colour is on);
 * with `json`, the line as it came. Lines that are not pino JSON pass unchanged.
 */
export function logLineFormatter(format: LogFormat, name: string, p: Palette): (line: string) => string {
  if (format === 'json') return (line) => line;
  const pretty = prettyFactory({
    colorize: p.enabled,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
  });
  const tag = p.cyan(name.padEnd(11));
  return (line) => {
    if (!line.startsWith('{')) return `${tag} ${line}`;
    try {
      JSON.parse(line);
    } catch {
      return `${tag} ${line}`;
    }
    return `${tag} ${pretty(line).trimEnd()}`;
  };
}

/** Reads a child's stream line by line; `onLine` may claim a line (return true) before it is printed. */
export function forwardLines(
  input: Readable,
  out: NodeJS.WritableStream,
  format: (line: string) => string,
  onLine?: (line: string) => boolean,
): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (onLine?.(line)) return;
    out.write(`${format(line)}\n`);
  });
  return new Promise((resolve) => lines.once('close', resolve));
}
