import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookConfig } from '@aoinb/config';
import type { NotifyMessage } from './notify-message.ts';
import { deliver, requestFor, retryDelayMs, signBody } from './webhook-sender.ts';

const logger = pino({ level: 'silent' });
const message: NotifyMessage = {
  event: 'group_finished',
  delivery: 'd-1',
  occurred_at: '2026-12-01T00:00:00.000Z',
  farm: 'http://farm',
  url: 'http://farm/#/group/7',
  summary: 'Group 7 (stable) failed: 1 failed',
  group: { id: '7', state: 'failed' },
};
const hook = (over: Partial<WebhookConfig>): WebhookConfig => ({
  name: 'h',
  format: 'json',
  url: 'http://127.0.0.1:1',
  events: ['group_finished'],
  secret: 'k',
  attempts: 3,
  timeoutSeconds: 5,
  ...over,
});

let server: Server | undefined;
afterEach(() => void server?.close());

async function answering(statuses: number[]): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(statuses[Math.min(hits++, statuses.length - 1)] ?? 200).end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

describe('webhook delivery', () => {
  it('signs the exact body with HMAC-SHA256 (a known vector)', () => {
    // printf '%s' '{"a":1}' | openssl dgst -sha256 -hmac key
    expect(signBody('key', '{"a":1}')).toBe('sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342');
    const req = requestFor(hook({}), message);
    expect(req.headers['x-aoinb-signature']).toBe(signBody('k', req.body));
    expect(JSON.parse(req.body)).toEqual(message);
    expect(requestFor(hook({ secret: undefined }), message).headers).not.toHaveProperty('x-aoinb-signature');
  });

  it('builds a plain-text Telegram sendMessage for the chat', () => {
    const req = requestFor(
      hook({ format: 'telegram', url: 'https://api.telegram.org', secret: '123:abc', chatId: '-100' }),
      message,
    );
    expect(req.url).toBe('https://api.telegram.org/bot123:abc/sendMessage');
    expect(JSON.parse(req.body)).toEqual({
      chat_id: '-100',
      text: '❌ Group 7 (stable) failed: 1 failed\nhttp://farm/#/group/7',
      disable_web_page_preview: true,
    });
  });

  it('delivers a Telegram message to a Bot API on loopback', async () => {
    const seen: Array<{ path: string; body: string }> = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const result = await deliver(
      hook({ format: 'telegram', url, secret: '42:XYZ', chatId: '@aosc_builds' }),
      message,
      logger,
      new AbortController().signal,
    );
    expect(result).toEqual({ ok: true, status: 200, attempts: 1 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe('/bot42:XYZ/sendMessage');
    expect(JSON.parse(seen[0]!.body)).toMatchObject({
      chat_id: '@aosc_builds',
      text: expect.stringContaining('Group 7 (stable) failed'),
    });
  });

  it('retries 5xx with backoff, gives up at once on other 4xx', async () => {
    expect([1, 2, 3, 12].map(retryDelayMs)).toEqual([1000, 2000, 4000, 300_000]);
    const flaky = await answering([503, 200]);
    const ok = await deliver(hook({ url: flaky.url }), message, logger, new AbortController().signal);
    expect(ok).toEqual({ ok: true, status: 200, attempts: 2 });
    server?.close();
    const wrong = await answering([410]);
    const gone = await deliver(hook({ url: wrong.url }), message, logger, new AbortController().signal);
    expect(gone).toMatchObject({ ok: false, status: 410, attempts: 1 });
    expect(wrong.hits()).toBe(1);
  });

  it('stops retrying when the coordinator shuts down, cutting the backoff short', async () => {
    const down = await answering([500]);
    const controller = new AbortController();
    let marker: NodeJS.Timeout | undefined;
    let backoffOver = false;
    // Shut down as delivery goes into its first backoff (its log line comes just before the wait). A timer
    // of the backoff's length, set first, fires first unless the abort cuts the wait short.
    const watching = pino(
      { level: 'info' },
      {
        write: (line: string) => {
          if ((JSON.parse(line) as { msg: string }).msg !== 'notification not delivered; trying again') return;
          marker = setTimeout(() => (backoffOver = true), retryDelayMs(1));
          controller.abort();
        },
      },
    );
    const result = await deliver(hook({ url: down.url, attempts: 10 }), message, watching, controller.signal);
    clearTimeout(marker);
    expect(marker).toBeDefined();
    expect(backoffOver).toBe(false);
    expect(result).toMatchObject({ ok: false, status: 500, attempts: 1 });
    expect(down.hits()).toBe(1);
  });
});
