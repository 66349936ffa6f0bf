/** ANSI colours, only on a terminal and never when NO_COLOR is set (https://no-color.org). */
export interface Palette {
  enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function palette(enabled: boolean): Palette {
  const sgr = (open: number, close: number) => (text: string) =>
    enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

/** A task, build or group state in its colour: green done, red failed, yellow in progress. */
export function paintState(p: Palette, state: string): string {
  if (state === 'succeeded' || state === 'published' || state === 'idle') return p.green(state);
  if (state === 'failed' || state === 'cancelled' || state === 'skipped' || state === 'offline') return p.red(state);
  if (state === 'running' || state === 'queued' || state === 'building' || state === 'waiting') return p.yellow(state);
  return state;
}
