import { Gauge, type Registry } from 'prom-client';
import { farmKeys, readBuilders, type BuilderStatus, type FarmKeys, type RedisClient } from '@aoinb/farm-protocol';
import { sharedRefresh, type CollectGuard } from '@aoinb/metrics';

/** Builder states as metrics report them: the registry's, with `draining` (SIGTERM received, taking no jobs) apart. */
export const builderStates = ['idle', 'building', 'draining', 'offline'] as const;
export type BuilderMetricState = (typeof builderStates)[number];

/**
 * Arch label of an offline builder whose arch tags this
 * coordinator never saw (its heartbeat expired before we started).
 */
export const unknownArch = 'unknown';

export function metricStateOf(builder: BuilderStatus): BuilderMetricState {
  if (builder.state === 'offline') return 'offline';
  // A paused builder (work dir full, farm identity lost) takes no jobs either: it counts as draining.
  return builder.facts?.mode === 'draining' || builder.facts?.mode === 'paused' ? 'draining' : builder.state;
}

export interface BuilderSnapshot {
  builders: BuilderStatus[];
  /** Arch tags per builder id: from its facts, or remembered from an earlier scrape once it is offline. */
  archsOf(id: string): string[];
}

/**
 * Builder gauges from the heartbeat registry (`readBuilders`), read at scrape
 * time. An offline builder's facts have expired, so its arch tags are the ones
 * this coordinator last saw (`unknown` after a coordinator restart).
 */
export function registerBuilderMetrics(
  registry: Registry,
  redis: RedisClient,
  archs: string[],
  guard: CollectGuard,
  keys: FarmKeys = farmKeys,
): void {
  const knownArchs = new Map<string, string[]>();
  const snapshot = sharedRefresh(async (): Promise<BuilderSnapshot | undefined> => {
    let builders: BuilderStatus[] | undefined;
    await guard.run('builders', async () => {
      builders = await readBuilders(redis, Date.now(), keys);
    });
    if (!builders) return undefined;
    for (const b of builders) if (b.facts) knownArchs.set(b.id, b.facts.archs);
    return { builders, archsOf: (id) => knownArchs.get(id) ?? [unknownArch] };
  });
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge, s: BuilderSnapshot) => void,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        if (!s) return;
        this.reset();
        fill(this, s);
      },
    });
  };
  defineArchGauges(gauge, archs);
  definePerBuilderGauges(gauge);
}

type DefineGauge = (
  name: string,
  help: string,
  labelNames: string[],
  fill: (g: Gauge, s: BuilderSnapshot) => void,
) => void;

/** The gauges per arch tag, with a zero for every arch the coordinator serves. */
function defineArchGauges(gauge: DefineGauge, archs: string[]): void {
  gauge(
    'aoinb_builders',
    'Builders per arch tag and state (idle, building, draining, offline); ' +
      'a builder with several arch tags counts in each',
    ['arch', 'state'],
    (g, s) => {
      for (const arch of archs) for (const state of builderStates) g.set({ arch, state }, 0);
      for (const b of s.builders) for (const arch of s.archsOf(b.id)) g.inc({ arch, state: metricStateOf(b) });
    },
  );
  gauge(
    'aoinb_arch_slots',
    'Build slots of the online, non-draining builders carrying each arch tag (shared slots count in each of ' +
      'their archs)',
    ['arch'],
    (g, s) => {
      for (const arch of archs) g.set({ arch }, 0);
      for (const b of s.builders) {
        if (metricStateOf(b) === 'offline' || metricStateOf(b) === 'draining') continue;
        for (const arch of s.archsOf(b.id)) g.inc({ arch }, b.facts?.slots ?? 0);
      }
    },
  );
}

/** The gauges per builder id. */
function definePerBuilderGauges(gauge: DefineGauge): void {
  gauge(
    'aoinb_builder_up',
    '1 while the builder heartbeats, 0 once its heartbeat expired (listed for 7 days after its last one)',
    ['builder'],
    (g, s) => {
      for (const b of s.builders) g.set({ builder: b.id }, b.state === 'offline' ? 0 : 1);
    },
  );
  gauge(
    'aoinb_builder_last_heartbeat_timestamp_seconds',
    "Unix time of the builder's last heartbeat",
    ['builder'],
    (g, s) => {
      for (const b of s.builders) g.set({ builder: b.id }, Date.parse(b.lastHeartbeat) / 1000);
    },
  );
  gauge('aoinb_builder_slots', 'Build slots of each online builder', ['builder'], (g, s) => {
    for (const b of s.builders) if (b.facts) g.set({ builder: b.id }, b.facts.slots);
  });
  gauge(
    'aoinb_builder_running_builds',
    'Builds running on each online builder (from its last heartbeat)',
    ['builder'],
    (g, s) => {
      for (const b of s.builders) if (b.facts) g.set({ builder: b.id }, b.facts.currentTasks.length);
    },
  );
}
