import path from 'node:path';
import { readSecret } from './secret-file.ts';
import type { TableReader } from './table-reader.ts';

export interface RedisConfig {
  /** `redis://` or `rediss://` (TLS); absent (and no `cluster`) = `farm up` runs its own redis-server. */
  url?: string;
  /** A Redis Cluster instead of one server: the seed nodes' `redis://host:port` (or all `rediss://`). */
  cluster?: string[];
  /** Password kept out of the URL, read from a file. */
  password?: string;
  /** CA bundle for TLS, relative to the config folder. */
  caFile?: string;
  /** Prefix of every farm key and queue: one Redis Cluster hash tag (default `{aoinb}`); farms apart by prefix. */
  prefix: string;
}

/**
 * `[redis] cluster`: seed nodes of a Redis Cluster, each `redis://[user:password@]host:port` (or all
 * `rediss://`); the client learns the other nodes from them. A cluster has database 0 only.
 */
function readClusterNodes(t: TableReader, hasUrl: boolean): string[] | undefined {
  if (!t.has('cluster')) return undefined;
  const nodes = t.stringArray('cluster', []);
  if (nodes.length === 0) t.problem('cluster', 'must list at least one node, e.g. ["redis://10.0.0.1:6379"]');
  if (hasUrl) t.problem('cluster', 'and redis.url are exclusive: one server (url) or a Redis Cluster (cluster)');
  nodes.forEach((node, i) => {
    const problem = clusterNodeProblem(node);
    if (problem) t.problem(`cluster[${i}]`, `${JSON.stringify(node)} ${problem}`);
  });
  if (new Set(nodes.map((n) => n.split(':')[0])).size > 1)
    t.problem('cluster', 'mixes redis:// and rediss://: every node of a cluster speaks TLS, or none');
  return nodes.length > 0 ? nodes : undefined;
}

function clusterNodeProblem(node: string): string | undefined {
  let url: URL;
  try {
    url = new URL(node);
  } catch {
    return 'is not a URL (redis://host:port)';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return 'is not a redis:// or rediss:// URL';
  if (!url.hostname) return 'has no host';
  if (url.pathname && url.pathname !== '/' && url.pathname !== '/0')
    return 'names a database: a Redis Cluster has database 0 only';
  return undefined;
}

/** `[redis]`: one server (`url`) or a Redis Cluster (`cluster`), its password, TLS CA and key prefix. */
export function readRedis(root: TableReader, configDir: string): RedisConfig {
  const t = root.section('redis');
  // AOINB_REDIS_URL lets `farm up` hand its embedded Redis to the processes it starts.
  const url =
    t.optionalString('url', { pattern: /^rediss?:\/\//, hint: 'a redis:// or rediss:// URL' }) ??
    process.env.AOINB_REDIS_URL;
  // Secrets come from files only: `farm up` names its generated ones by path, never by value.
  const passwordFile = t.optionalString('password_file') ?? process.env.AOINB_REDIS_PASSWORD_FILE;
  const caFile = t.optionalString('ca_file');
  const prefix =
    t.optionalString('prefix', {
      pattern: /^\{[A-Za-z0-9_.-]{1,64}\}$/,
      hint: 'one Redis Cluster hash tag such as "{aoinb}" (letters, digits, _ . - inside braces)',
    }) ?? '{aoinb}';
  const cluster = readClusterNodes(t, url !== undefined && t.has('url'));
  t.rejectUnknown();
  return {
    url: cluster ? undefined : url,
    cluster,
    prefix,
    password: passwordFile ? readSecret(t, 'password_file', passwordFile, configDir) : undefined,
    caFile: caFile ? path.resolve(configDir, caFile) : undefined,
  };
}
