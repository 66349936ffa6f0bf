import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';

/** A client of the farm's Redis: one server, or a Redis Cluster (`[redis] cluster`). Every farm key is in one slot. */
export type RedisClient = Redis | Cluster;

/**
 * How to reach the farm's Redis: ioredis options of one server, or with
 * `cluster` the seed nodes of a Redis Cluster (the options then apply to each
 * node's connection). Passed around as one value; `connectRedis` and
 * `queueConnection` open the right kind of client from it.
 */
export type FarmConnection = RedisOptions & { cluster?: ClusterNode[] };

/**
 * ioredis options from `[redis]`: `redis://[user:password@]host:port[/db]` or
 * `rediss://` for TLS, the password from `password_file` (wins over the URL's),
 * and `ca_file` for a private CA. BullMQ gets the same options and opens its own
 * connections from them.
 */
export function redisOptions(config: Omit<RedisConfig, 'prefix'>): FarmConnection {
  if (config.cluster?.length) return clusterOptions(config, config.cluster);
  if (!config.url) {
    throw new AoinbError(
      'CONFIG_INVALID',
      'redis.url (or redis.cluster) is not set (only `aoinb farm up` runs its own Redis)',
    );
  }
  return serverOptions(config, parseUrl('redis.url', config.url));
}

/** `[redis] cluster`: each seed node's host and port; user, password and TLS of the first apply to every node. */
function clusterOptions(config: Omit<RedisConfig, 'prefix'>, seeds: string[]): FarmConnection {
  const urls = seeds.map((seed, i) => parseUrl(`redis.cluster[${i}]`, seed));
  const { host, port, db, tls, ...perNode } = serverOptions(config, urls[0] as URL);
  void [host, port];
  if (db) throw new AoinbError('CONFIG_INVALID', 'redis.cluster: a Redis Cluster has database 0 only');
  // No fixed SNI name: each node is checked under its own address (the ones the cluster announces).
  return {
    ...perNode,
    ...(tls ? { tls: { ...tls, servername: undefined } } : {}),
    cluster: urls.map((url) => ({
      host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: Number(url.port) || 6379,
    })),
  };
}

function parseUrl(key: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new AoinbError('CONFIG_INVALID', `${key} ${JSON.stringify(value)} is not a URL`);
  }
}

function serverOptions(config: Omit<RedisConfig, 'prefix'>, url: URL): RedisOptions {
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

/** A Cluster client of `options.cluster`; the cluster-wide knobs follow the per-node ones. */
function newCluster(options: FarmConnection, extra: RedisOptions & { lazyConnect?: boolean } = {}): Cluster {
  const { cluster = [], ...node } = { ...options, ...extra };
  return new Cluster(cluster, {
    redisOptions: node,
    lazyConnect: node.lazyConnect,
    enableOfflineQueue: node.enableOfflineQueue,
    enableReadyCheck: node.enableReadyCheck,
    clusterRetryStrategy: (times) => Math.min(200 * times, 5000),
    // The slots may move (a resharding, a failover): follow MOVED/ASK, and refresh the map now and then.
    slotsRefreshInterval: 10_000,
  });
}

/**
 * A new ioredis client (a Cluster client when `options.cluster` is set), logging (not throwing) connection errors:
 * ioredis reconnects by itself. A pub/sub subscriber passes `{ enableReadyCheck: false }` (the ready check's INFO
 * is refused in subscriber mode).
 */
export function connectRedis(
  options: FarmConnection,
  logger: Logger,
  name: string,
  extra: RedisOptions = {},
): RedisClient {
  const named = { connectionName: `aoinb-${name}`, ...extra };
  const client: RedisClient = options.cluster?.length
    ? newCluster(options, named)
    : new Redis({ ...options, ...named });
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
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000))]);
  client.disconnect();
}

/**
 * BullMQ's `connection` for the farm's Redis. One server: the options (BullMQ opens and closes its own clients).
 * A cluster: a Cluster client that connects only when used; Workers and QueueEvents duplicate it and close their
 * copies, a Queue uses it and leaves it open, so a Queue's owner closes it with `closeQueueConnection`.
 */
export function queueConnection(options: FarmConnection): RedisOptions | Cluster {
  if (!options.cluster?.length) return options;
  // BullMQ wants the blocking-safe settings on every connection it makes from this one.
  return newCluster(options, { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: true });
}

/** Closes what `queueConnection` opened for a Queue (nothing for one server). */
export async function closeQueueConnection(connection: unknown): Promise<void> {
  if (connection instanceof Cluster) await closeRedis(connection);
}

/**
 * The one node that holds every key of the farm: its prefix is one hash tag, so one slot. For the commands that
 * go to a node, not a key (SCAN, INFO): on a cluster, ioredis would send them to any node.
 */
export async function farmNode(client: RedisClient, prefix: string): Promise<Redis> {
  if (!(client instanceof Cluster)) return client;
  const slot = Number(await client.cluster('KEYSLOT', prefix));
  const owner = client.slots[slot]?.[0];
  const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) throw new AoinbError('UNAVAILABLE', `no Redis Cluster node serves slot ${slot} of ${prefix} now`);
  return node;
}
