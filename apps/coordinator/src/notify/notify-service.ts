import type { NotifyEvent, WebhookConfig } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import { closeRedis, connectRedis, readBuilders, runWithRestart, sleep, type RedisClient } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { builderView } from '../http/views.ts';
import {
  builderOfflineMessage,
  groupFinishedMessage,
  taskFinishedMessage,
  type NotifyMessage,
} from './notify-message.ts';
import { deliver } from './webhook-sender.ts';

/** Where the notifier left off in `{aoinb}:events`, so a restarted coordinator neither repeats nor loses. */
const cursorKey = '{aoinb}:notify:cursor';
/** Messages waiting per hook; beyond it the oldest are dropped (and logged): a dead receiver must not eat memory. */
const queueLimit = 1000;

/** One hook's outbox: messages are delivered in order, one at a time, each with its own retries. */
class Outbox {
  private readonly queue: NotifyMessage[] = [];
  private wake: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(
    readonly hook: WebhookConfig,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.wake?.(), { once: true });
    this.done = this.run();
  }

  push(message: NotifyMessage): void {
    if (!this.hook.events.includes(message.event as NotifyEvent)) return;
    if (this.queue.length >= queueLimit)
      this.logger.warn(
        { webhook: this.hook.name, dropped: this.queue.shift()?.delivery },
        'notification outbox full; dropped the oldest',
      );
    this.queue.push(message);
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.signal.aborted) {
      const next = this.queue.shift();
      if (next) await deliver(this.hook, next, this.logger, this.signal);
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

/** The message an event-stream entry calls for, if any: a task or group reaching a final state. */
async function messageFor(ctx: CoordinatorContext, f: Record<string, string>): Promise<NotifyMessage | undefined> {
  const at = f.at ?? new Date().toISOString();
  if (f.type === 'task' && f.taskId && ['succeeded', 'failed', 'cancelled'].includes(f.state ?? ''))
    return taskFinishedMessage(ctx, f.taskId, at);
  if (f.type === 'group' && f.groupId && ['succeeded', 'failed', 'partial', 'cancelled'].includes(f.state ?? ''))
    return groupFinishedMessage(ctx, f.groupId, at);
  return undefined;
}

/** Reads `{aoinb}:events` with a blocking XREAD on its own connection, from the saved cursor. */
async function readEvents(
  ctx: CoordinatorContext,
  reader: RedisClient,
  outboxes: Outbox[],
  signal: AbortSignal,
): Promise<void> {
  let cursor = (await ctx.redis.get(cursorKey)) ?? '$';
  if (cursor === '$') {
    const last = (await ctx.redis.xrevrange(ctx.keys.events, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    cursor = last[0]?.[0] ?? '0-0';
  }
  while (!signal.aborted) {
    const answer = await reader.xread('COUNT', 200, 'BLOCK', 2000, 'STREAMS', ctx.keys.events, cursor);
    for (const [id, flat] of answer?.[0]?.[1] ?? []) {
      const message = await messageFor(ctx, fieldsOf(flat));
      if (message) for (const box of outboxes) box.push(message);
      cursor = id;
    }
    if (answer) await ctx.redis.set(cursorKey, cursor);
  }
}

/** Builders have no offline event (their heartbeat just expires): compare each poll with the last. */
async function watchBuilders(
  ctx: CoordinatorContext,
  outboxes: Outbox[],
  signal: AbortSignal,
  intervalMs: number,
): Promise<void> {
  const last = new Map<string, { state: string; view: Record<string, unknown> }>();
  let first = true;
  while (!signal.aborted) {
    for (const b of await readBuilders(ctx.redis, Date.now(), ctx.keys)) {
      const before = last.get(b.id);
      if (!first && b.state === 'offline' && before && before.state !== 'offline') {
        for (const box of outboxes) box.push(builderOfflineMessage(ctx, b, before.view));
      }
      last.set(b.id, {
        state: b.state,
        view: b.state === 'offline' ? (before?.view ?? builderView(b)) : builderView(b),
      });
    }
    first = false;
    await sleep(intervalMs, signal);
  }
}

export interface Notifier {
  close(): Promise<void>;
}

/**
 * Tells `[[notify.webhook]]` receivers when tasks and groups finish and when
 * builders go offline. It only reads the farm (events stream, heartbeats) and
 * delivers from in-memory outboxes, so a slow or dead receiver never holds up a build.
 */
export function startNotifier(ctx: CoordinatorContext, options: { builderPollMs?: number } = {}): Notifier {
  const hooks = ctx.config.notify.webhooks;
  if (hooks.length === 0) return { close: async () => undefined };
  const logger = ctx.logger.child({ component: 'notify' });
  const controller = new AbortController();
  const signal = controller.signal;
  const outboxes = hooks.map((hook) => new Outbox(hook, logger, signal));
  const reader = connectRedis(ctx.connection, logger, 'notify');
  const loops = [
    runWithRestart('notify events', logger, signal, (s) => readEvents(ctx, reader, outboxes, s)),
    hooks.some((h) => h.events.includes('builder_offline'))
      ? runWithRestart('notify builders', logger, signal, (s) =>
          watchBuilders(ctx, outboxes, s, options.builderPollMs ?? 2000),
        )
      : Promise.resolve(),
  ];
  logger.info({ webhooks: hooks.map((h) => h.name) }, 'notifications on');
  return {
    async close() {
      controller.abort();
      reader.disconnect();
      await Promise.all([...loops, ...outboxes.map((o) => o.done)]);
      await closeRedis(reader).catch(() => undefined);
    },
  };
}
