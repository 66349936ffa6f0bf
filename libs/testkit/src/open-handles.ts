import { AsyncLocalStorage } from 'node:async_hooks';
import { Cluster, Redis } from 'ioredis';
import { liveTimers, type LiveTimers } from './live-timers.ts';

/**
 * What a test or a test file has open, for the leak check (leak-check.ts): the
 * active handles and timers by kind (`process.getActiveResourcesInfo()`, which
 * counts only what keeps the process alive: an unref'd timer or server is not
 * there), the timers of code under test (live-timers.ts), and every ioredis
 * client that connected and has not ended yet. What a file's shared fixture
 * opens is the file's (`asFileFixture`).
 */
export type HandleSnapshot = {
  readonly counts: ReadonlyMap<string, number>;
  /** Of `counts`, how many the file's fixtures had opened by then (asFileFixture). */
  readonly fixtures: ReadonlyMap<string, number>;
  readonly timers: { readonly count: number; readonly seq: number };
  readonly redis: ReadonlySet<RedisLike>;
};

/** `file`: every kind. `test`: only kinds no library keeps in an idle pool after the test is done with them. */
export type LeakScope = 'file' | 'test';

type RedisLike = Redis | Cluster;

/** Transient or vitest's own: file system requests in flight, the terminal, immediates, DNS look-ups. */
const ignored = new Set(['FSReqCallback', 'FSReqPromise', 'TTYWrap', 'Immediate', 'GetAddrInfoReqWrap', 'CloseReq']);

/**
 * Kinds that are only ever open because code asked for them and forgot to close
 * them: child processes, listening servers, file watchers, signal handlers; ref'd
 * timers and intervals (loops) are counted by live-timers.ts. Client sockets (`TCPSocketWrap`, `TLSWrap`,
 * `PipeWrap`) are not among them: fetch's pool (undici) and node:http's
 * keep-alive agent keep an idle socket open for ~4-5 s after a response, so a
 * per-test count of sockets would wait out that pool after each test that made a
 * request. Redis clients, the sockets that do matter per test, are counted
 * through the registry below instead; every socket is still counted per file.
 */
const perTestKinds = new Set([
  'ProcessWrap',
  'TCPServerWrap',
  'PipeServerWrap',
  'UDPWrap',
  'FSEventWrap',
  'StatWatcher',
  'SignalWrap',
]);

const registryKey = Symbol.for('aoinb.testkit.redisClients');

/** The code of a file's fixtures (its start, and all that start set going), and what their starts opened by kind. */
type FileFixtures = { readonly code: AsyncLocalStorage<true>; readonly opened: Map<string, number> };
const fixturesKey = Symbol.for('aoinb.testkit.fileFixtures');

/** One per process, as the registries: the setup file and a test's fixture may load this module apart. */
function fileFixtures(): FileFixtures {
  const existing: unknown = Reflect.get(globalThis, fixturesKey);
  if (existing) return existing as FileFixtures;
  const created: FileFixtures = { code: new AsyncLocalStorage(), opened: new Map() };
  Reflect.set(globalThis, fixturesKey, created);
  return created;
}

const inFileFixture = (): boolean => fileFixtures().code.getStore() === true;

/**
 * Starts a fixture that a test file's tests share (a coordinator in this process, a farm) as the file's, not
 * the running test's: for a rig that starts lazily in the first test's beforeEach (docs/testing.md: Stryker),
 * or in beforeAll with loops of its own. The child processes, servers and watchers its start opens, and the
 * timers and Redis clients of all the code it sets going, now and in later tests (loops re-arming timers,
 * clients reconnecting, a queue's worker processing a test's job), are then left out of each test's check.
 * The file's check still counts them all after afterAll: close the fixture there.
 */
export async function asFileFixture<T>(start: () => Promise<T>): Promise<T> {
  const { code, opened } = fileFixtures();
  const before = countKinds();
  try {
    return await code.run(true, start);
  } finally {
    for (const [kind, n] of countKinds()) {
      const added = n - (before.get(kind) ?? 0);
      if (added > 0) opened.set(kind, (opened.get(kind) ?? 0) + added);
    }
  }
}

/**
 * Every ioredis client (and Cluster, and a Cluster's node clients) that calls
 * `connect()`, which the constructor does unless `lazyConnect`, and a reconnect
 * does again, until it emits `end` (closed for good, no reconnect pending; a
 * Cluster's status reads `close` again after that). Kept on the prototypes so
 * that a second evaluation of this module in one process shares the one
 * registry instead of wrapping `connect` twice.
 */
function redisRegistry(): Set<RedisLike> {
  const existing: unknown = Reflect.get(Redis.prototype, registryKey);
  if (existing instanceof Set) return existing as Set<RedisLike>;
  const clients = new Set<RedisLike>();
  Reflect.set(Redis.prototype, registryKey, clients);
  const register = (client: RedisLike): void => {
    if (clients.has(client) || inFileFixture()) return;
    clients.add(client);
    client.once('end', () => clients.delete(client));
  };
  const connectRedis = Redis.prototype.connect;
  Redis.prototype.connect = function (this: Redis, ...args: Parameters<Redis['connect']>) {
    register(this);
    return connectRedis.apply(this, args);
  };
  const connectCluster = Cluster.prototype.connect;
  Cluster.prototype.connect = function (this: Cluster) {
    register(this);
    return connectCluster.apply(this);
  };
  return clients;
}

let tracking: { readonly redis: Set<RedisLike>; readonly timers: LiveTimers } | undefined;
const tracked = () => (tracking ??= { redis: redisRegistry(), timers: liveTimers(inFileFixture) });

/**
 * Wraps the timer functions and ioredis' connect for the per-test check: at the setup file's load, before any
 * fixture starts (a loop started untracked would count up as it re-arms its timers through the wrappers).
 */
export function trackHandles(): void {
  tracked();
}

function countKinds(): Map<string, number> {
  const out = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (!ignored.has(kind)) out.set(kind, (out.get(kind) ?? 0) + 1);
  return out;
}

export function snapshotHandles(scope: LeakScope): HandleSnapshot {
  const counts = countKinds();
  const fixtures = new Map(fileFixtures().opened);
  if (scope === 'file') return { counts, fixtures, timers: { count: 0, seq: 0 }, redis: new Set() };
  const { redis, timers } = tracked();
  return { counts, fixtures, timers: { count: timers.count(), seq: timers.seq() }, redis: new Set(redis) };
}

function describeRedis(client: RedisLike): string {
  if (client instanceof Cluster) return `a Redis Cluster client (${client.status})`;
  const { host, port, path } = client.options;
  return `a Redis client of ${path ?? `${host ?? '?'}:${port ?? '?'}`} (${client.status})`;
}

/** What is open now beyond `before`, e.g. `ProcessWrap +1` or `a Redis client of 127.0.0.1:6400 (ready)`. */
export function handlesLeftSince(before: HandleSnapshot, scope: LeakScope): string[] {
  const { opened } = fileFixtures();
  // Per test, what a file fixture started since opened is the file's; per file, everything counts.
  const allowed = (kind: string): number =>
    (before.counts.get(kind) ?? 0) +
    (scope === 'test' ? (opened.get(kind) ?? 0) - (before.fixtures.get(kind) ?? 0) : 0);
  const kinds = [...countKinds()]
    .filter(([kind]) => scope === 'file' || perTestKinds.has(kind))
    .filter(([kind, n]) => n > allowed(kind))
    .map(([kind, n]) => `${kind} +${n - allowed(kind)}`);
  if (scope === 'file') return kinds;
  const clients = [...tracked().redis].filter((client) => !before.redis.has(client));
  return [...kinds, ...timersLeftSince(before), ...clients.map(describeRedis)];
}

/** By count, so that a loop of the file's that re-arms its timer during a test is no leak; named where it can be. */
function timersLeftSince(before: HandleSnapshot): string[] {
  const { timers } = tracked();
  const extra = timers.count() - before.timers.count;
  if (extra <= 0) return [];
  const newest = timers.createdSince(before.timers.seq);
  return [`Timeout +${extra}${newest.length > 0 ? ` (${newest.join(', ')})` : ''}`];
}

// Taken at load: a test's fake timers (vi.useFakeTimers) must not stop the wait below.
const realSetTimeout = globalThis.setTimeout;

/** Closing is often asynchronous (a child's exit, a socket's close event): waits up to `ms` for it. */
export async function waitForHandlesClosed(before: HandleSnapshot, scope: LeakScope, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = handlesLeftSince(before, scope);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => realSetTimeout(resolve, 50));
    left = handlesLeftSince(before, scope);
  }
  return left;
}
