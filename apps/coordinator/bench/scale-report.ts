/** The scale benchmark's report (scale.ts): each route as the clients saw it and as the coordinator measured it. */
import { fmt } from './bench-stats.ts';
import type { Timings } from './scale-load.ts';
import { kib } from './scale-load.ts';
import { histogramQuantile, routeKey, serverLine, totalRequests, type HttpSnapshot } from './scale-server.ts';

export const routes = [
  'POST /task',
  'PUT /task/:id/build_bundle',
  'PUT /task/:id/build',
  'GET /task/:id/status',
  'GET /task?limit=50',
];
const floors = ['Redis PING', 'GET /healthz'];

/** A phase of the load: the client's timings, the coordinator's own histogram and its CPU seconds. */
export interface Phase {
  client: Timings;
  server: HttpSnapshot;
  cpuSeconds: number;
  mainCpuSeconds: number;
}

/** One phase's routes: client-observed (x the healthz p99 of the phase), then what the coordinator measured. */
function phaseReport(say: (line: string) => void, name: string, phase: Phase, kinds: string[]): void {
  const requests = totalRequests(phase.server);
  say(
    `${name}: coordinator answered ${requests} requests (workers' included) ` +
      `on ${phase.cpuSeconds.toFixed(1)} s of CPU, ${fmt((1000 * phase.cpuSeconds) / requests)} per request, ` +
      `${fmt((1000 * phase.mainCpuSeconds) / requests)} of it on the main thread`,
  );
  const floor = phase.client.p99('GET /healthz');
  for (const kind of kinds) {
    say(`  client ${phase.client.line(kind)}  x${(phase.client.p99(kind) / floor).toFixed(1)} healthz p99`);
    if (kind !== 'Redis PING') say(`  server ${serverLine(phase.server, kind, kind.includes('bundle') ? 100 : 50)}`);
  }
}

export function report(
  submit: Phase,
  drain: Phase,
  keptBytes: number,
  once: boolean,
  submitters: string,
  slots: number,
): string[] {
  const lines: string[] = [];
  const say = (line: string): void => void lines.push(line);
  say(
    `API (submit: ${submitters} + 1 reader + 1 floor probe while ${slots} slots build; ` + `drain: 1 reader + probe)`,
  );
  say('  client: as the bench saw it; server: the coordinator histogram, onRequest -> onResponse (p99 interpolated)');
  phaseReport(say, 'submit', submit, [...floors, ...routes]);
  phaseReport(say, 'drain', drain, [...floors, 'GET /task/:id/status', 'GET /task?limit=50']);
  const json = ['POST /task', 'PUT /task/:id/build', 'GET /task/:id/status', 'GET /task?limit=50'];
  const clientP99 = Math.max(...json.map((k) => Math.max(submit.client.p99(k), drain.client.p99(k) || 0)));
  const serverP99 = Math.max(
    ...json.map((k) =>
      Math.max(...[submit, drain].map((p) => histogramQuantile(p.server.get(routeKey(k)), 0.99) || 0)),
    ),
  );
  const upload = submit.client.p99('PUT /task/:id/build_bundle');
  const uploadServer = histogramQuantile(submit.server.get('PUT /task/:id/build_bundle'), 0.99);
  const verdict = (v: number, target: number): string => `${v < target ? 'met' : 'NOT met'} (${fmt(v)})`;
  say(
    `targets: API p99 < 50 ms: client ${verdict(clientP99, 50)}, server ${verdict(serverP99, 50)}; ` +
      `upload p99 < 100 ms: client ${verdict(upload, 100)}, server ${verdict(uploadServer, 100)}; ` +
      `Redis < 5 KB per finished task: ${keptBytes < 5 * 1024 ? 'met' : 'NOT met'} (${kib(keptBytes)}); ` +
      `exactly once: ${once ? 'yes' : 'NO'}; errors ${submit.client.errors + drain.client.errors}`,
  );
  return lines;
}
