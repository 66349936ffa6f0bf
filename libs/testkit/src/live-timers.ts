/**
 * The timers and intervals that code under test has pending, for the per-test
 * leak check. `process.getActiveResourcesInfo()` counts vitest's own timers too
 * (it throttles its task updates with a timer of up to 100 ms), so a count taken
 * before a test may hold one that has fired by the end, hiding a timer the test
 * left; vitest keeps its own copies of the timer functions from before the setup
 * files run, so wrapping the global ones here counts everything but vitest's.
 * Not counted: timers from `node:timers` or `node:timers/promises` imports, and
 * a timer cleared by its numeric id or by `timer.close()` stays counted; the
 * file's check (all kinds) still sees every timer. Nor timers created while
 * `ignore()` is true at the first install (the code of a file's shared fixture,
 * open-handles.ts).
 */
type TimerCallback = (...args: unknown[]) => void;
type Tracked = { readonly label: string; readonly seq: number };

export type LiveTimers = {
  /** Pending ref'd timers: their number, and the sequence number of the newest. */
  readonly count: () => number;
  readonly seq: () => number;
  /** Labels of the pending ref'd timers created after `seq`, e.g. `setInterval(1000 ms, tick)`. */
  readonly createdSince: (seq: number) => string[];
};

const registryKey = Symbol.for('aoinb.testkit.liveTimers');

// AOINB_LEAK_STACKS=1: each timer's label also says where it was created (slower: a stack per timer).
const withStacks = Boolean(process.env.AOINB_LEAK_STACKS);

/** The creation site, past this file's own frames: `at sleep (libs/farm-protocol/src/loops.ts:13:19) < ...`. */
function createdAt(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  const outside = frames.filter((frame) => !frame.includes('live-timers.ts')).slice(0, 12);
  return outside.map((frame) => frame.trim().replace(`${process.cwd()}/`, '')).join(' < ');
}

function label(kind: string, callback: TimerCallback, ms: unknown): string {
  const site = withStacks ? ` ${createdAt()}` : '';
  return `${kind}(${Number(ms) || 0} ms${callback.name ? `, ${callback.name}` : ''}${site})`;
}

function install(ignore: () => boolean): LiveTimers {
  const live = new Map<NodeJS.Timeout, Tracked>();
  let seq = 0;
  const real = { setTimeout, setInterval, clearTimeout, clearInterval };
  const add = (timer: NodeJS.Timeout, text: string): NodeJS.Timeout => {
    live.set(timer, { label: text, seq: ++seq });
    return timer;
  };
  const tracked = {
    setTimeout(callback: TimerCallback, ms?: number, ...args: unknown[]): NodeJS.Timeout {
      // A non-function gets Node's own error; a file fixture's timer is not tracked.
      if (typeof callback !== 'function' || ignore()) return real.setTimeout(callback, ms, ...args);
      const timer: NodeJS.Timeout = real.setTimeout(
        (...values: unknown[]) => {
          live.delete(timer);
          callback(...values);
        },
        ms,
        ...args,
      );
      return add(timer, label('setTimeout', callback, ms));
    },
    setInterval(callback: TimerCallback, ms?: number, ...args: unknown[]): NodeJS.Timeout {
      if (typeof callback !== 'function' || ignore()) return real.setInterval(callback, ms, ...args);
      return add(real.setInterval(callback, ms, ...args), label('setInterval', callback, ms));
    },
    clearTimeout(timer?: NodeJS.Timeout | string | number): void {
      if (typeof timer === 'object') live.delete(timer);
      real.clearTimeout(timer);
    },
    clearInterval(timer?: NodeJS.Timeout | string | number): void {
      if (typeof timer === 'object') live.delete(timer);
      real.clearInterval(timer);
    },
  };
  // util.promisify(setTimeout) and the like go through the originals' custom forms.
  Object.assign(globalThis, {
    setTimeout: Object.assign(tracked.setTimeout, real.setTimeout),
    setInterval: Object.assign(tracked.setInterval, real.setInterval),
    clearTimeout: tracked.clearTimeout,
    clearInterval: tracked.clearInterval,
  });
  const pending = (): Array<[NodeJS.Timeout, Tracked]> => [...live].filter(([timer]) => timer.hasRef());
  return {
    count: () => pending().length,
    seq: () => seq,
    createdSince: (since) => pending().flatMap(([, t]) => (t.seq > since ? [t.label] : [])),
  };
}

/** Installed once per process: a second evaluation of this module shares the first one's wrappers. */
export function liveTimers(ignore: () => boolean = () => false): LiveTimers {
  const existing: unknown = Reflect.get(globalThis, registryKey);
  if (existing) return existing as LiveTimers;
  const timers = install(ignore);
  Reflect.set(globalThis, registryKey, timers);
  return timers;
}
