/**
 * Server-side figures of the scale benchmark (scale.ts): what the coordinator itself measured, from its
 * `aoinb_http_request_duration_seconds` histogram (Fastify onRequest -> onResponse), and the CPU time its
 * process spent. A client-observed time minus the server-side one is the wait before Fastify saw the
 * request (the host's and the event loop's queue); CPU time is what load on the host inflates least.
 */
import { farmTokens, type FarmHarness } from '@aoinb/farm-harness';
import { fmt } from './bench-stats.ts';

/** One route's histogram: cumulative counts by upper bound (s), sum (s) and count. */
export interface RouteHistogram {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

/** Histograms by "METHOD /route/pattern". */
export type HttpSnapshot = Map<string, RouteHistogram>;

const metric = 'aoinb_http_request_duration_seconds';

function labels(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

/** Parses the coordinator's HTTP duration histogram out of a Prometheus text exposition. */
export function parseHttpHistogram(text: string): HttpSnapshot {
  const out: HttpSnapshot = new Map();
  const line = new RegExp(`^${metric}_(bucket|sum|count)\\{([^}]*)\\} (\\S+)$`);
  for (const raw of text.split('\n')) {
    const m = line.exec(raw);
    if (!m) continue;
    const l = labels(m[2]!);
    const key = `${l.method} ${l.route}`;
    const h = out.get(key) ?? { buckets: new Map(), sum: 0, count: 0 };
    const value = Number(m[3]);
    if (m[1] === 'sum') h.sum = value;
    else if (m[1] === 'count') h.count = value;
    else h.buckets.set(l.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(l.le), value);
    out.set(key, h);
  }
  return out;
}

/** What happened between two snapshots. */
export function diffSnapshots(after: HttpSnapshot, before: HttpSnapshot): HttpSnapshot {
  const out: HttpSnapshot = new Map();
  for (const [key, a] of after) {
    const b = before.get(key);
    const buckets = new Map([...a.buckets].map(([le, n]) => [le, n - (b?.buckets.get(le) ?? 0)]));
    out.set(key, { buckets, sum: a.sum - (b?.sum ?? 0), count: a.count - (b?.count ?? 0) });
  }
  return out;
}

/** A quantile in ms, interpolated linearly inside its bucket (as Prometheus' histogram_quantile). */
export function histogramQuantile(h: RouteHistogram | undefined, q: number): number {
  if (!h || h.count === 0) return Number.NaN;
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const [le, n] of [...h.buckets].sort((x, y) => x[0] - y[0])) {
    if (n >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lower * 1000;
      return (lower + ((le - lower) * (rank - below)) / Math.max(1, n - below)) * 1000;
    }
    [lower, below] = [le, n];
  }
  return Number.NaN;
}

/** Share of requests answered within `ms` (a bucket bound: 5, 10, 25, 50, 100 ms ...). */
export function shareWithin(h: RouteHistogram | undefined, ms: number): number {
  if (!h || h.count === 0) return Number.NaN;
  const n = h.buckets.get(ms / 1000);
  return n === undefined ? Number.NaN : n / h.count;
}

export async function scrapeHttp(farm: FarmHarness): Promise<HttpSnapshot> {
  const res = await farm.api('GET', '/metrics', undefined, { token: farmTokens.reader });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.text}`);
  return parseHttpHistogram(res.text);
}

/** The coordinator's histogram key of a benchmark's request kind ("GET /task?limit=50" -> "GET /task"). */
export function routeKey(kind: string): string {
  return kind.replace(/\?.*$/, '');
}

/** One line of server-side figures for a request kind. */
export function serverLine(phase: HttpSnapshot, kind: string, targetMs: number): string {
  const h = phase.get(routeKey(kind));
  const mean = h && h.count > 0 ? (1000 * h.sum) / h.count : Number.NaN;
  const within = (100 * shareWithin(h, targetMs)).toFixed(1);
  return (
    `${kind.padEnd(24)} n ${String(h?.count ?? 0).padStart(6)}  mean ${fmt(mean).padStart(9)}  ` +
    `p99 ${fmt(histogramQuantile(h, 0.99)).padStart(9)}  ${within}% within ${targetMs} ms`
  );
}

/** Every request the coordinator answered in a phase (workers' included). */
export function totalRequests(phase: HttpSnapshot): number {
  return [...phase.values()].reduce((n, h) => n + h.count, 0);
}

type Call = (i: number) => Promise<{ status: number }>;

/** CPU seconds per wall millisecond of the idle coordinator (process, main thread), measured over 5 s. */
async function idleCpuPerMs(both: () => Promise<[number, number]>): Promise<[number, number]> {
  const c0 = await both();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const c1 = await both();
  return [0, 1].map((i) => (c1[i]! - c0[i]!) / (performance.now() - t0)) as [number, number];
}

/** The kinds of request measured, in order: each bundle upload and delete is on a task the creates made. */
function requestKinds(farm: FarmHarness, id: string, archive: Buffer): Array<[string, Call]> {
  const maintainer = { token: farmTokens.maintainer };
  const created: string[] = [];
  return [
    ['GET /healthz', () => farm.api('GET', '/healthz', undefined, { token: null })],
    ['GET /task/:id/status', () => farm.api('GET', `/task/${id}/status`, undefined, maintainer)],
    ['GET /task?limit=50', () => farm.api('GET', '/task?limit=50', undefined, maintainer)],
    [
      'POST /task',
      async () => {
        const res = await farm.api('POST', '/task', { branch: 'stable' }, maintainer);
        created.push((res.body as { id: string }).id);
        return res;
      },
    ],
    ['PUT /task/:id/build_bundle', (i) => farm.api('PUT', `/task/${created[i]}/build_bundle`, archive, maintainer)],
    ['DELETE /task/:id', (i) => farm.api('DELETE', `/task/${created[i]}`, undefined, maintainer)],
  ];
}

/**
 * The coordinator's CPU per request of each kind, one request at a time on the built farm: CPU seconds of
 * its process (/proc) over `n` requests, less what it spends idle (heartbeats, background loops) in the
 * same wall time. `GET /healthz` is the baseline. The bench's own CPU is not counted (another process).
 */
export async function routeCpuCosts(
  farm: FarmHarness,
  cpu: (mainThread?: boolean) => Promise<number>,
  id: string,
  archive: Buffer,
  n: number,
): Promise<string[]> {
  const both = async (): Promise<[number, number]> => [await cpu(), await cpu(true)];
  const idlePerMs = await idleCpuPerMs(both);
  const kinds = requestKinds(farm, id, archive);
  const lines: string[] = [];
  let base = Number.NaN;
  for (const [kind, call] of kinds) {
    const [c, t] = [await both(), performance.now()];
    for (let i = 0; i < n; i++) {
      const res = await call(i);
      if (res.status >= 300) throw new Error(`${kind} (CPU costs): ${res.status}`);
    }
    const wall = performance.now() - t;
    const after = await both();
    const [perRequest, main] = [0, 1].map((k) => (1000 * (after[k]! - c[k]! - idlePerMs[k]! * wall)) / n) as [
      number,
      number,
    ];
    if (kind === 'GET /healthz') base = perRequest;
    lines.push(
      `  ${kind.padEnd(26)} ${fmt(perRequest).padStart(9)} CPU (main thread ${fmt(main)}), ` +
        `x${(perRequest / base).toFixed(1)} healthz; wall ${fmt(wall / n)}`,
    );
  }
  return lines;
}
