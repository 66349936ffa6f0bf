import { readSecret } from './secret-file.ts';
import type { TableReader } from './table-reader.ts';

/** What a webhook can be told about. `test` is sent only by `aoinb notify test`. */
export const notifyEvents = ['task_finished', 'group_finished', 'builder_offline'] as const;
export type NotifyEvent = (typeof notifyEvents)[number];

export interface WebhookConfig {
  /** Names the hook in logs and in `aoinb notify test`; default `webhook-<n>`. */
  name: string;
  /** `json`: the documented JSON body, signed; `telegram`: a `sendMessage` call to the Bot API. */
  format: 'json' | 'telegram';
  /** Where to POST (for `telegram`: the Bot API base, default https://api.telegram.org). */
  url: string;
  events: NotifyEvent[];
  /** HMAC-SHA256 key (json) or bot token (telegram), read from `secret_file`. */
  secret?: string;
  /** Telegram chat to write to. */
  chatId?: string;
  /** Delivery attempts before a message is dropped (and logged). */
  attempts: number;
  timeoutSeconds: number;
}

export interface NotifyConfig {
  webhooks: WebhookConfig[];
}

function readWebhook(t: TableReader, index: number, configDir: string): WebhookConfig {
  const format = t.oneOf('format', ['json', 'telegram'] as const, 'json');
  const url = t.string('url', {
    ...(format === 'telegram' ? { default: 'https://api.telegram.org' } : {}),
    pattern: /^https?:\/\/[^\s]+$/,
    hint: 'an http(s) URL',
  });
  const events = t.stringArray('events', [...notifyEvents]);
  events.forEach((e, i) => {
    if (!(notifyEvents as readonly string[]).includes(e))
      t.problem(`events[${i}]`, `${JSON.stringify(e)} is not an event; use ${notifyEvents.join(', ')}`);
  });
  if (t.optionalString('secret') !== undefined)
    t.problem('secret', 'secrets are never written in config.toml; use secret_file');
  const secretFile = t.optionalString('secret_file');
  const secret = secretFile ? readSecret(t, 'secret_file', secretFile, configDir) : undefined;
  const chatId = t.optionalString('chat_id', {
    pattern: /^(-?\d+|@[A-Za-z0-9_]{4,})$/,
    hint: 'a numeric chat id or @channelname',
  });
  if (format === 'telegram' && !secretFile)
    t.problem('secret_file', 'is required for format = "telegram" (the bot token)');
  if (format === 'telegram' && !chatId) t.problem('chat_id', 'is required for format = "telegram"');
  const hook: WebhookConfig = {
    name: t.string('name', {
      default: `webhook-${index + 1}`,
      pattern: /^[A-Za-z0-9._-]+$/,
      hint: 'letters, digits, . _ -',
    }),
    format,
    url: url.replace(/\/+$/, ''),
    events: events.filter((e): e is NotifyEvent => (notifyEvents as readonly string[]).includes(e)),
    secret,
    chatId,
    attempts: t.integer('attempts', { default: 8, min: 1, max: 100 }),
    timeoutSeconds: t.integer('timeout_seconds', { default: 10, min: 1, max: 300 }),
  };
  t.rejectUnknown();
  return hook;
}

/** `[[notify.webhook]]` tables of config.toml. */
export function readNotifyConfig(root: TableReader, configDir: string): NotifyConfig {
  const t = root.section('notify');
  const webhooks = t.tables('webhook').map((w, i) => readWebhook(w, i, configDir));
  t.rejectUnknown();
  const seen = new Set<string>();
  webhooks.forEach((w, i) => {
    if (seen.has(w.name)) t.problem(`webhook[${i}].name`, `${JSON.stringify(w.name)} is used by another webhook`);
    seen.add(w.name);
  });
  return { webhooks };
}
