import { randomBytes, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type LookupFunction, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AoinbError } from '@aoinb/errors';
import { checkDestination, type CheckedAddress, type DestinationUse, type SourcePolicy } from './destination-policy.ts';
import { checkFetchUrl } from './source-url.ts';

/**
 * A forward proxy on loopback that git fetches through (`https_proxy`), so
 * every connection git makes, to the first URL, after a redirect, or for a
 * submodule on another host, is checked by the same destination policy as
 * tarball downloads, connects to the checked address only, and counts against
 * the size limit. https goes through CONNECT tunnels (TLS stays end to end);
 * plain http requests are forwarded. It answers only to its own random
 * credential, so nothing else on the host can use it.
 */
export interface CheckedProxy {
  /** `http://aoinb:<secret>@127.0.0.1:<port>` for git's environment (on a socket path: the path's user:secret). */
  url: string;
  /** `aoinb:<secret>`, the only credential the proxy answers to. */
  credentials: string;
  /** Why the proxy refused or cut a connection, for the error message (curl only sees a 403). */
  refusals(): AoinbError[];
  close(): Promise<void>;
}

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function pinned(checked: CheckedAddress): LookupFunction {
  return ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
    o?.all ? cb(null, [checked]) : cb(null, checked.address, checked.family)) as LookupFunction;
}

/** Where the proxy listens: loopback (git on the host) or a socket file (a build's network, see build-network.ts). */
export interface ProxyListen {
  socketPath?: string;
  /** Whom the proxy serves, for its refusals: git fetching sources (default) or a build allowed a network. */
  use?: DestinationUse;
}

/** What the proxy's handlers share: the policy, the credential, the refusals, the byte count, open sockets. */
interface ProxyState {
  policy: SourcePolicy;
  use: DestinationUse;
  /** Who is asking, for messages: git or the build. */
  who: string;
  secret: string;
  refusals: AoinbError[];
  sockets: Set<Socket | Duplex>;
  authorised(req: IncomingMessage): boolean;
  /** Records why a connection was refused or cut; its message. */
  refuse(error: unknown): string;
  /** Counts `n` bytes from upstream; past the size limit, refuses and calls `stop`. */
  count(n: number, stop: () => void): void;
}

function proxyState(policy: SourcePolicy, use: DestinationUse): ProxyState {
  const sizeLimit =
    use === 'build-network'
      ? `the build's network traffic passed [build] source_max_mib (${policy.maxBytes / 1048576} MiB)`
      : `download is larger than [build] source_max_mib (${policy.maxBytes / 1048576} MiB)`;
  const secret = randomBytes(18).toString('hex');
  const expected = Buffer.from(`Basic ${Buffer.from(`aoinb:${secret}`).toString('base64')}`);
  const refusals: AoinbError[] = [];
  let bytes = 0;
  const refuse = (error: unknown): string => {
    refusals.push(
      error instanceof AoinbError ? error : new AoinbError('SOURCE_FETCH_FAILED', (error as Error).message),
    );
    return (error as Error).message;
  };
  return {
    policy,
    use,
    who: use === 'build-network' ? 'the build' : 'git',
    secret,
    refusals,
    sockets: new Set(),
    authorised: (req) => {
      const got = Buffer.from(req.headers['proxy-authorization'] ?? '');
      return got.length === expected.length && timingSafeEqual(got, expected);
    },
    refuse,
    count: (n, stop) => {
      bytes += n;
      if (bytes > policy.maxBytes) {
        refuse(new Error(sizeLimit));
        stop();
      }
    },
  };
}

/** A plain http request, forwarded to the checked address with the hop-by-hop headers left out. */
async function forward(state: ProxyState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { policy, who } = state;
  const url = checkFetchUrl(req.url ?? '', `${who} request`);
  if (url.protocol !== 'http:')
    throw new AoinbError(
      'SOURCE_UNSUPPORTED',
      `${who} request ${url.href}: only http is forwarded; https goes through CONNECT`,
    );
  const checked = await checkDestination(url.hostname, Number(url.port || 80), policy, state.use);
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !hopByHop.has(k)));
  const upstream = http.request(url, { method: req.method, headers, lookup: pinned(checked), timeout: policy.stallMs });
  upstream.once('timeout', () => upstream.destroy(new Error(`no data for ${policy.stallMs / 1000} s`)));
  upstream.once('error', (error) => {
    state.refuse(error);
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  upstream.once('response', (up) => {
    res.writeHead(
      up.statusCode ?? 502,
      Object.fromEntries(Object.entries(up.headers).filter(([k]) => !hopByHop.has(k))),
    );
    up.on('data', (chunk: Buffer) => state.count(chunk.length, () => (up.destroy(), res.destroy())));
    up.pipe(res);
  });
  req.pipe(upstream);
}

/** A CONNECT tunnel (https: TLS stays end to end) to the checked address of `host:port`. */
async function tunnel(state: ProxyState, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
  const { policy, sockets } = state;
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
  if (!m) throw new AoinbError('BUNDLE_INVALID', `${state.who} asked for a tunnel to ${JSON.stringify(req.url)}`);
  const port = Number(m[2]);
  const checked = await checkDestination(m[1] as string, port, policy, state.use);
  const upstream = net.connect({ host: checked.address, port, family: checked.family });
  sockets.add(upstream);
  upstream.setTimeout(policy.stallMs, () => {
    state.refuse(new Error(`no data for ${policy.stallMs / 1000} s`));
    upstream.destroy();
  });
  upstream.once('close', () => (sockets.delete(upstream), client.destroy()));
  upstream.once('error', (error) => state.refuse(error));
  upstream.once('connect', () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.on('data', (chunk: Buffer) => state.count(chunk.length, () => (upstream.destroy(), client.destroy())));
    upstream.pipe(client);
    client.pipe(upstream);
  });
  client.once('close', () => upstream.destroy());
}

/** The proxy's server: 407 without the credential, then a forwarded request or a tunnel, 403 when refused. */
function proxyServer(state: ProxyState): http.Server {
  const server = http.createServer((req, res) => {
    if (!state.authorised(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="aoinb"' }).end();
      return;
    }
    forward(state, req, res).catch((error: unknown) => {
      const message = state.refuse(error);
      if (!res.headersSent) res.writeHead(403, { 'content-type': 'text/plain' }).end(`${message}\n`);
    });
  });
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    state.sockets.add(client);
    client.once('close', () => state.sockets.delete(client));
    client.on('error', () => client.destroy());
    if (!state.authorised(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="aoinb"\r\n' +
          'Content-Length: 0\r\n\r\n',
      );
      return;
    }
    tunnel(state, req, client, head).catch((error: unknown) => {
      state.refuse(error);
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    });
  });
  return server;
}

export async function startCheckedProxy(policy: SourcePolicy, listen: ProxyListen = {}): Promise<CheckedProxy> {
  const state = proxyState(policy, listen.use ?? 'sources');
  const server = proxyServer(state);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (listen.socketPath) server.listen({ path: listen.socketPath }, resolve);
    else server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const where = listen.socketPath ?? `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://aoinb:${state.secret}@${where}`,
    credentials: `aoinb:${state.secret}`,
    refusals: () => [...state.refusals],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of state.sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
