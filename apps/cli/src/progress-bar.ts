/** A one-line download progress bar on a terminal; periodic lines elsewhere. */
export function progressPrinter(
  out: NodeJS.WritableStream & { isTTY?: boolean },
): (p: { received: number; total: number | undefined }) => void {
  const started = Date.now();
  let lastPrint = 0;
  const mib = (n: number) => (n / 1048576).toFixed(1);
  return ({ received, total }) => {
    const now = Date.now();
    const done = total !== undefined && received >= total;
    if (!done && now - lastPrint < (out.isTTY ? 200 : 5000)) return;
    lastPrint = now;
    const rate = received / Math.max(0.001, (now - started) / 1000);
    const width = 30;
    const bar = total ? `[${'#'.repeat(Math.round((received / total) * width)).padEnd(width, '.')}] ` : '';
    const percent = total ? ` (${Math.floor((received / total) * 100)}%)` : '';
    const text = `${bar}${mib(received)}${total ? ` / ${mib(total)}` : ''} MiB${percent} ${mib(rate)} MiB/s`;
    out.write(out.isTTY ? `\r${text}${done ? '\n' : ''}` : `${text}\n`);
  };
}
