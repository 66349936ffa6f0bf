import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';

/**
 * ioredis options from `[redis]`: `redis://[user:password@]host:port[/db]` or
 * `rediss://` for TLS, the password from `password_file` (wins over the URL's),
 * and `ca_file` for a private CA. BullMQ gets the same options and opens its own
 * connections from them.
 */
export function redisOptions(config: Omit<RedisConfig, 'prefix'>): RedisOptions {
  if (!config.url) {
    throw new AoinbError('CONFIG_INVALID', 'redis.url is not set (only `aoinb farm up` runs its own Redis)');
  }
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new AoinbError('CONFIG_INVALID', `redis.url ${JSON.stringify(config.url)} is not a URL`);
  }
  const tls = url.protocol === 'rediss:';
  const db = url.pathname.replace(/^\//, '');
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    db: db ? Number(db) : 0,
    // BullMQ requires it for blocking connections; our own callers want commands to wait out a reconnect too.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(200 * times, 5000),
  };
  if (url.username) options.username = decodeURIComponent(url.username);
  if (url.password) options.password = decodeURIComponent(url.password);
  if (config.password) options.password = config.password;
  if (tls) {
    // SNI takes host names only; an IP address is checked against the certificate's IP SANs.
    options.tls = {
      ...(isIP(options.host ?? '') ? {} : { servername: options.host }),
      ...(config.caFile ? { ca: readCa(config.caFile) } : {}),
    };
  }
  return options;
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new AoinbError('CONFIG_INVALID', `redis.ca_file ${file} cannot be read: ${(error as Error).message}`);
  }
}

/**
 * A new ioredis client, logging (not throwing) connection errors: ioredis reconnects by itself.
 * A pub/sub subscriber passes `{ enableReadyCheck: false }` (the ready check's INFO is refused in subscriber mode).
 */
export function connectRedis(options: RedisOptions, logger: Logger, name: string, extra: RedisOptions = {}): Redis {
  const client = new Redis({ ...options, connectionName: `aoinb-${name}`, ...extra });
  let lastLogged = 0;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - lastLogged > 5000) {
      lastLogged = now;
      logger.warn({ err: error.message, connection: name }, 'redis connection error (reconnecting)');
    }
  });
  return client;
}

/** Closes a client, waiting for pending replies but never longer than a second. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000))]);
  client.disconnect();
}
