import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { BackgroundWork } from './background-work.ts';

/** A logger that keeps what it was given, as (msg, fields). */
function keptLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('background work', () => {
  it('is waited for by drain, with what it started meanwhile', async () => {
    const { logger } = keptLogger();
    const work = new BackgroundWork(logger);
    const first = gate();
    const ended: string[] = [];
    work.start('failed', {}, async () => {
      await first.opened;
      ended.push('first');
      // Started while a drain already waits: drained too.
      work.start('failed', {}, async () => {
        await new Promise((r) => setTimeout(r, 20));
        ended.push('second');
      });
    });
    expect(work.size).toBe(1);
    const draining = work.drain(60_000);
    first.open();
    expect(await draining).toBe(true);
    expect(ended).toEqual(['first', 'second']);
    expect(work.size).toBe(0);
  });

  it('logs a failure with its fields and goes on', async () => {
    const { logger, lines } = keptLogger();
    const work = new BackgroundWork(logger);
    work.start('log archive failed', { taskId: '7' }, async () => {
      throw new Error('disk full');
    });
    expect(await work.drain(60_000)).toBe(true);
    expect(lines).toMatchObject([{ msg: 'log archive failed', taskId: '7', err: 'disk full' }]);
  });

  it('stops waiting at its bound, says so, and answers false', async () => {
    const { logger, lines } = keptLogger();
    const work = new BackgroundWork(logger);
    const never = gate();
    work.start('failed', {}, () => never.opened);
    expect(await work.drain(50)).toBe(false);
    expect(lines).toMatchObject([{ msg: 'stopping before background work ended', running: 1 }]);
    never.open();
    expect(await work.drain(60_000)).toBe(true);
  });
});
