/** What a download reports: bytes so far, and the whole size when the server said it. */
export interface Progress {
  received: number;
  total: number | undefined;
}

/** The stream progress goes to: a terminal (`isTTY`, `columns`) or anything else (a pipe, a log file). */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

const barWidth = 30;
/** A narrower bar says too little: below this the line has none. */
const minBarWidth = 10;
const mib = (n: number): string => (n / 1048576).toFixed(1);

/**
 * One line of progress: `[#####.....] 1.0 / 2.0 MiB (50%) 0.5 MiB/s`, the bar narrowed (or left out) so the
 * line fits in `columns` without wrapping (a wrapped line cannot be redrawn in place); no bar without a total.
 */
export function renderProgress(p: Progress & { bytesPerSecond: number }, columns = 80): string {
  const { received, total } = p;
  const known = total !== undefined && total > 0;
  const share = known ? Math.min(1, received / total) : 0;
  const size = `${mib(received)}${known ? ` / ${mib(total)}` : ''} MiB`;
  const text = `${size}${known ? ` (${Math.floor(share * 100)}%)` : ''} ${mib(p.bytesPerSecond)} MiB/s`;
  // `[`, `] ` and the last column, which some terminals wrap on.
  const width = Math.min(barWidth, columns - text.length - 4);
  if (!known || width < minBarWidth) return text;
  return `[${'#'.repeat(Math.round(share * width)).padEnd(width, '.')}] ${text}`;
}

/**
 * A download's progress on `out`: on a terminal one line redrawn in place (at most every 200 ms, padded over
 * the longer line before it, so none of that is left; no escape codes, which `TERM=dumb` would print; ended with
 * a newline when done); elsewhere no bar and no carriage return, a plain line every 5 s and one at the end.
 */
export function progressPrinter(out: ProgressStream, now: () => number = Date.now): (p: Progress) => void {
  const started = now();
  let lastPrint = Number.NEGATIVE_INFINITY;
  let drawn = 0;
  let ended = false;
  return ({ received, total }) => {
    const at = now();
    const done = total !== undefined && received >= total;
    if (ended || (!done && at - lastPrint < (out.isTTY ? 200 : 5000))) return;
    ended = done;
    lastPrint = at;
    const bytesPerSecond = received / Math.max(0.001, (at - started) / 1000);
    if (!out.isTTY) {
      out.write(`${renderProgress({ received, total, bytesPerSecond }, 0)}\n`);
      return;
    }
    const line = renderProgress({ received, total, bytesPerSecond }, out.columns);
    out.write(`\r${line.padEnd(drawn)}${done ? '\n' : ''}`);
    drawn = done ? 0 : line.length;
  };
}
