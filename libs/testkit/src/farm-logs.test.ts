import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { farmLogTail, keepFarmLogs, pathPart, readableTimes } from './farm-log-report.ts';
import { FarmLogs, watchFarmLogs } from './farm-logs.ts';

describe('FarmLogs', () => {
  it('blanks its secrets, any bearer credential and URL password in what it hands out', () => {
    const logs = new FarmLogs({ secrets: ['tok-1', 'tok-1-long'] });
    const log = logs.add('coordinator');
    log.append('a tok-1-long and a tok-');
    log.append('1 here; {"authorization":"Bearer abc.def"} bearer xyz\n');
    const shown = '[redacted]';
    const expected = `a ${shown} and a ${shown} here; {"authorization":"Bearer ${shown}"} bearer ${shown}\n`;
    expect(log.content()).toBe(expected);
    expect(log.tail(5).lines).toEqual([expected.trimEnd()]);
    const url = logs.add('redis-server');
    url.append('connecting to redis://:pw1@127.0.0.1:6379 and rediss://user:pw2@host/0, not http://host:80/\n');
    expect(url.content()).toBe(
      `connecting to redis://:${shown}@127.0.0.1:6379 and rediss://user:${shown}@host/0, not http://host:80/\n`,
    );
  });

  it('names a process started again after the first, and follows a stream', () => {
    const logs = new FarmLogs();
    logs.add('coordinator');
    const stream = new PassThrough();
    const again = logs.follow('coordinator', stream);
    stream.write('second start\n');
    expect(logs.logs.map((log) => log.name)).toEqual(['coordinator', 'coordinator (2)']);
    expect(again.content()).toBe('second start\n');
  });

  it('keeps the last lines as a tail, long lines cut, and drops the start of a huge log', () => {
    const log = new FarmLogs().add('w1');
    for (let i = 1; i <= 100; i++) log.append(`line ${i}\n`);
    log.append(`${'x'.repeat(500)}\n`);
    const { lines, total } = log.tail(3, 10);
    expect(total).toBe(101);
    expect(lines).toEqual(['line 99', 'line 100', 'xxxxxxxxxx... (490 more characters)']);
    const huge = new FarmLogs().add('chatty');
    for (let i = 0; i < 9; i++) huge.append(`${String(i).repeat(1024 * 1024 - 1)}\n`);
    const kept = huge.content();
    expect(kept).toMatch(/^\[\.\.\. \d+ characters dropped from the start\]\n/);
    expect(kept.length).toBeLessThanOrEqual(8 * 1024 * 1024 + 100);
    expect(kept.trimEnd().endsWith('8')).toBe(true);
  });

  it('is active until closed, and after for a test that started before', () => {
    const logs = new FarmLogs();
    expect(logs.activeSince(Date.now() + 1000)).toBe(true);
    const before = Date.now();
    logs.close();
    expect(logs.activeSince(before)).toBe(true);
    expect(logs.activeSince(Date.now() + 1000)).toBe(false);
  });

  it('joins the watched farms of this process (the suite setup file watches)', () => {
    const logs = new FarmLogs();
    expect(watchFarmLogs().has(logs)).toBe(true);
  });
});

describe('farmLogTail', () => {
  it('heads each log of the test, names farms when there are several, and is empty with no log', () => {
    const one = new FarmLogs();
    one.add('coordinator').append('ready\n');
    one.add('w1');
    const two = new FarmLogs();
    two.add('coordinator').append('a\nb\nc\n');
    expect(farmLogTail([one], 'f.test.ts > t').split('\n')).toEqual([
      '== farm logs of failed test: f.test.ts > t',
      '--- coordinator (1 line)',
      'ready',
      '--- w1: no output',
      '== end of farm logs: f.test.ts > t',
      '',
    ]);
    expect(farmLogTail([one, two], 't', 2)).toContain('--- farm 2: coordinator (last 2 of 3 lines)\nb\nc\n');
    expect(farmLogTail([], 't')).toBe('');
  });

  it("shows pino's epoch-ms times as ISO times, and leaves other numbers and the kept log alone", () => {
    const line = '{"level":50,"time":1796223963335,"pid":7,"msg":"took 1796223963335 ms"}';
    const readable = '{"level":50,"time":"2026-12-02T15:06:03.335Z","pid":7,"msg":"took 1796223963335 ms"}';
    expect(readableTimes(line)).toBe(readable);
    expect(readableTimes('plain "time":12 line')).toBe('plain "time":12 line');
    const logs = new FarmLogs();
    logs.add('worker').append(`${line}\n`);
    expect(farmLogTail([logs], 't')).toContain(`\n${readable}\n`);
    expect(logs.logs[0]!.content()).toBe(`${line}\n`);
  });
});

describe('keepFarmLogs', () => {
  let dir = '';
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes each log whole under DIR/<test file>/<test name>/, names made safe for paths', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aoinb-keep-logs-'));
    const logs = new FarmLogs({ secrets: ['tok'] });
    logs.add('coordinator').append('uses tok\n');
    logs.add('redis-server').append('up\n');
    const folder = await keepFarmLogs(dir, 'apps/x/src/a.test.ts', 'suite > does a/b', [logs]);
    expect(folder).toBe(path.join(dir, 'apps/x/src/a.test.ts', 'suite _ does a_b'));
    expect((await readdir(folder)).sort()).toEqual(['coordinator.log', 'redis-server.log']);
    expect(await readFile(path.join(folder, 'coordinator.log'), 'utf8')).toBe('uses [redacted]\n');
    // No path separator and no leading dot: never a way out of DIR.
    expect(pathPart('../..')).toBe('__..');
  });
});
