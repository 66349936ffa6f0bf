import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { palette } from '../colours.ts';
import { forwardLines, logLineFormatter, resolveLogFormat } from './log-lines.ts';

const line = JSON.stringify({
  level: 30,
  time: Date.UTC(2030, 0, 1, 12, 0, 1),
  pid: 42,
  hostname: 'h',
  taskId: '3',
  msg: 'job claimed',
});

describe('farm up log lines', () => {
  it('is pretty on a terminal and JSON elsewhere, unless asked', () => {
    expect(resolveLogFormat('auto', { isTTY: true })).toBe('pretty');
    expect(resolveLogFormat('auto', {})).toBe('json');
    expect(resolveLogFormat('json', { isTTY: true })).toBe('json');
    expect(resolveLogFormat('pretty', {})).toBe('pretty');
  });

  it('turns pino JSON into one readable line naming the process, level and fields', () => {
    const text = logLineFormatter('pretty', 'worker', palette(false))(line);
    expect(text).toMatch(/^worker +\[\d\d:\d\d:\d\d\] INFO: job claimed \{"taskId":"3"\}$/);
    expect(text).not.toContain('pid');
  });

  it('colours only when colour is on; passes other lines and JSON mode through', () => {
    expect(logLineFormatter('pretty', 'coordinator', palette(true))(line)).toMatch(/\x1b\[32mINFO/);
    expect(logLineFormatter('pretty', 'worker', palette(false))('plain text {')).toBe('worker      plain text {');
    expect(logLineFormatter('pretty', 'worker', palette(false))('{not json')).toBe('worker      {not json');
    expect(logLineFormatter('json', 'worker', palette(true))(line)).toBe(line);
  });

  it('forwards a stream line by line, letting a handler claim lines', async () => {
    const input = new PassThrough();
    const out = new PassThrough();
    let seen = '';
    out.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    const done = forwardLines(
      input,
      out,
      (l) => `> ${l}`,
      (l) => l === 'claimed',
    );
    input.end('one\nclaimed\ntwo');
    await done;
    expect(seen).toBe('> one\n> two\n');
  });
});
