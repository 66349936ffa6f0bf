import { createHmac } from 'node:crypto';
import type { WebhookConfig } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import { sleep } from '@aoinb/farm-protocol';
import type { NotifyMessage } from './notify-message.ts';
import { telegramRequest } from './telegram.ts';

export interface DeliveryResult {
  ok: boolean;
  /** HTTP status of the last attempt; 0 when there was no answer. */
  status: number;
  attempts: number;
  error?: string;
}

/** `sha256=<hex>` of HMAC-SHA256(secret, body): what X-Aoinb-Signature carries. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The HTTP request a hook gets for a message: the signed JSON body, or Telegram's sendMessage. */
export function requestFor(hook: WebhookConfig, message: NotifyMessage): OutgoingRequest {
  if (hook.format === 'telegram') return telegramRequest(hook, message);
  const body = JSON.stringify(message);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'aoinb-coordinator',
    'x-aoinb-event': message.event,
    'x-aoinb-delivery': message.delivery,
  };
  if (hook.secret) headers['x-aoinb-signature'] = signBody(hook.secret, body);
  return { url: hook.url, headers, body };
}

/** 5xx, 429 and no answer are worth another try; other 4xx say the request itself is wrong. */
function retryable(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/** Seconds between attempts: 1, 2, 4 ... capped at 5 minutes. */
export function retryDelayMs(attempt: number): number {
  return Math.min(300_000, 1000 * 2 ** (attempt - 1));
}

/** One POST of a request; never throws: no answer is status 0 with the cause. */
async function postOnce(
  request: OutgoingRequest,
  timeoutSeconds: number,
  attempt: number,
  signal: AbortSignal,
): Promise<DeliveryResult> {
  try {
    const res = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'error',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutSeconds * 1000)]),
    });
    await res.arrayBuffer().catch(() => undefined);
    return {
      ok: res.ok,
      status: res.status,
      attempts: attempt,
      ...(res.ok ? {} : { error: `answered ${res.status}` }),
    };
  } catch (error) {
    // The URL may hold a secret (Telegram's bot token): log the cause, never the URL.
    return {
      ok: false,
      status: 0,
      attempts: attempt,
      error:
        (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message,
    };
  }
}

/**
 * POSTs a message, retrying with backoff up to the hook's `attempts`. Never
 * throws; the signal stops it between attempts (coordinator shutdown).
 */
export async function deliver(
  hook: WebhookConfig,
  message: NotifyMessage,
  logger: Logger,
  signal: AbortSignal,
  maxAttempts = hook.attempts,
): Promise<DeliveryResult> {
  const request = requestFor(hook, message);
  const log = logger.child({ webhook: hook.name, event: message.event, delivery: message.delivery });
  let result: DeliveryResult = { ok: false, status: 0, attempts: 0 };
  for (let attempt = 1; attempt <= maxAttempts && !signal.aborted; attempt += 1) {
    result = await postOnce(request, hook.timeoutSeconds, attempt, signal);
    if (result.ok) {
      log.debug({ attempts: attempt }, 'notification delivered');
      return result;
    }
    if (!retryable(result.status) || attempt === maxAttempts) break;
    const delay = retryDelayMs(attempt);
    log.info(
      { attempt, status: result.status, err: result.error, retryInMs: delay },
      'notification not delivered; trying again',
    );
    await sleep(delay, signal);
  }
  log.warn({ attempts: result.attempts, status: result.status, err: result.error }, 'notification dropped');
  return result;
}
