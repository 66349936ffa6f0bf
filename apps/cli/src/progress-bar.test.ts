import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressPrinter, renderProgress } from './progress-bar.ts';

const MiB = 1048576;

/** A stream that keeps what is written, as a terminal of `columns` (isTTY) or as a pipe (no isTTY, no columns). */
class FakeStream extends Writable {
  readonly written: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.written.push(chunk.toString());
    done();
  }
}

/** A clock the test moves: throttling is checked without waiting. */
function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('renderProgress', () => {
  it('draws the bar, the sizes, the share and the rate', () => {
    const line = renderProgress({ received: MiB, total: 2 * MiB, bytesPerSecond: MiB / 2 }, 80);
    expect(line).toBe(`[${'#'.repeat(15)}${'.'.repeat(15)}] 1.0 / 2.0 MiB (50%) 0.5 MiB/s`);
  });

  it('narrows the bar to fit the columns, and leaves it out where too few are left', () => {
    const p = { received: 3 * MiB, total: 4 * MiB, bytesPerSecond: MiB };
    for (const columns of [200, 80, 60, 50, 42])
      expect(renderProgress(p, columns).length, `${columns} columns`).toBeLessThan(columns);
    expect(renderProgress(p, 50)).toMatch(/^\[#{13}\.{4}\] 3\.0 \/ 4\.0 MiB \(75%\) 1\.0 MiB\/s$/);
    expect(renderProgress(p, 30)).toBe('3.0 / 4.0 MiB (75%) 1.0 MiB/s');
  });

  it('has no bar and no share without a total, and never more than 100 %', () => {
    expect(renderProgress({ received: 5 * MiB, total: undefined, bytesPerSecond: MiB }, 80)).toBe('5.0 MiB 1.0 MiB/s');
    const over = renderProgress({ received: 3 * MiB, total: 2 * MiB, bytesPerSecond: MiB }, 80);
    expect(over).toBe(`[${'#'.repeat(30)}] 3.0 / 2.0 MiB (100%) 1.0 MiB/s`);
  });
});

describe('progressPrinter', () => {
  it('on a terminal redraws one line in place, at most every 200 ms, and ends it when done', () => {
    const tty = new FakeStream(true, 80);
    const time = clock();
    const print = progressPrinter(tty, time.now);
    time.advance(1000);
    print({ received: MiB, total: 4 * MiB });
    time.advance(100);
    print({ received: 2 * MiB, total: 4 * MiB }); // within 200 ms: not drawn
    time.advance(150);
    print({ received: 3 * MiB, total: 4 * MiB });
    print({ received: 4 * MiB, total: 4 * MiB }); // done: drawn at once
    print({ received: 4 * MiB, total: 4 * MiB }); // and only once
    expect(tty.written).toHaveLength(3);
    expect(tty.written.every((w) => w.startsWith('\r') && !w.slice(1).includes('\r'))).toBe(true);
    expect(tty.written[0]).toBe(`\r[${'#'.repeat(8)}${'.'.repeat(22)}] 1.0 / 4.0 MiB (25%) 1.0 MiB/s`);
    expect(tty.written.slice(0, 2).some((w) => w.includes('\n'))).toBe(false);
    expect(tty.written[2]).toMatch(/^\r\[#{30}\] 4\.0 \/ 4\.0 MiB \(100%\) [\d.]+ MiB\/s *\n$/);
    expect(tty.written.join('')).not.toContain('\x1b');
  });

  it('pads a shorter line over the longer one before it, so none of that is left on the terminal', () => {
    const tty = new FakeStream(true, 80);
    const time = clock();
    const print = progressPrinter(tty, time.now);
    time.advance(10); // a fast start: a rate of many MiB/s, a long line
    print({ received: 100 * MiB, total: 400 * MiB });
    time.advance(100_000); // then slow: a shorter rate
    print({ received: 101 * MiB, total: 400 * MiB });
    const [first, second] = tty.written.map((w) => w.slice(1));
    expect(second!.trimEnd().length).toBeLessThan(first!.length);
    expect(second!.length).toBe(first!.length);
  });

  it('fits a narrow terminal: no line reaches its last column', () => {
    const tty = new FakeStream(true, 40);
    const print = progressPrinter(tty, clock().now);
    print({ received: 10 * MiB, total: 20 * MiB });
    expect(tty.written[0]!.slice(1).length).toBeLessThan(40);
  });

  it('draws nothing elsewhere: no bar and no carriage return, a plain line every 5 s and one at the end', () => {
    const pipe = new FakeStream(false);
    const time = clock();
    const print = progressPrinter(pipe, time.now);
    for (let i = 1; i <= 20; i++) {
      time.advance(1000);
      print({ received: i * MiB, total: 20 * MiB });
    }
    expect(pipe.written.join('')).not.toMatch(/[\r\x1b[\]#]/);
    expect(pipe.written.every((w) => w.endsWith('\n') && w.indexOf('\n') === w.length - 1)).toBe(true);
    // At 1 s (the first), 6, 11, 16 s, and the end at 20 s.
    expect(pipe.written.map((w) => w.split(' ')[0])).toEqual(['1.0', '6.0', '11.0', '16.0', '20.0']);
    expect(pipe.written.at(-1)).toBe('20.0 / 20.0 MiB (100%) 1.0 MiB/s\n');
  });
});
