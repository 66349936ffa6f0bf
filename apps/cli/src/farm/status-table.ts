import type { TaskStatus } from '@aoinb/farm-contract';

export function elapsed(from: string | null, to: string | null): string {
  if (!from) return '';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Rows of a task table: one per task and arch. */
export function statusRows(statuses: TaskStatus[]): string[][] {
  const rows = [['TASK', 'PACKAGE', 'ARCH', 'STATE', 'BUILDER', 'TIME', 'DETAIL']];
  for (const task of statuses) {
    const name = task.package ? `${task.package.name} ${task.package.version}` : '?';
    if (task.jobs.length === 0) rows.push([task.id, name, '', task.state, '', '', task.reason ?? '']);
    for (const job of task.jobs) {
      // The class first (disk-full, timeout, lost-host...): it says whose problem it is.
      const reason = job.reason && job.failure_class ? `[${job.failure_class}] ${job.reason}` : job.reason;
      const detail = reason ?? job.artifacts.map((a) => a.name).join(' ');
      rows.push([
        task.id,
        name,
        job.arch,
        job.state,
        job.builder ?? '',
        elapsed(job.started_at, job.finished_at),
        detail,
      ]);
    }
  }
  return rows;
}

/** Columns padded to their widest cell; `style` (e.g. colour) applies to body cells after the widths are known. */
export function renderTable(rows: string[][], style: (cell: string) => string = (cell) => cell): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[], row: number) =>
    r
      .map((cell, i) => {
        const shown = row === 0 ? cell : style(cell);
        return i === r.length - 1 ? shown : shown + ' '.repeat(widths[i]! - cell.length);
      })
      .join('  ')
      .trimEnd();
  return rows.map(line).join('\n');
}

/** Redraws a table in place on a terminal; elsewhere prints it only when it changed. */
export function tablePrinter(out: NodeJS.WritableStream & { isTTY?: boolean }): (text: string) => void {
  let lastLines = 0;
  let lastText = '';
  return (text) => {
    if (out.isTTY) {
      if (lastLines > 0) out.write(`\x1b[${lastLines}A\x1b[J`);
      out.write(`${text}\n`);
      lastLines = text.split('\n').length;
    } else if (text.replace(/\d+m?\d*s/g, '') !== lastText) {
      out.write(`${text}\n\n`);
      lastText = text.replace(/\d+m?\d*s/g, '');
    }
  };
}
