import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSource } from '@aoinb/bundle';
import { serveFolder, type FileServer } from '@aoinb/testkit';
import type { SourcePolicy } from './destination-policy.ts';
import { fetchSources } from './fetch-sources.ts';

/** A loopback HTTP server that counts every request it gets: the proof a forbidden one was never contacted. */
interface CountingServer {
  port: number;
  url: string;
  hits: number;
  close(): Promise<void>;
}

async function countingServer(handler: RequestListener): Promise<CountingServer> {
  const server: Server = createServer((req, res) => {
    state.hits += 1;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  const state: CountingServer = {
    port,
    url: `http://127.0.0.1:${port}`,
    hits: 0,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  return state;
}

const payload = Buffer.from('the real source tarball\n');
const payloadSha = createHash('sha256').update(payload).digest('hex');

let work: string;
let canary: string;
const servers: CountingServer[] = [];

function policy(allow: SourcePolicy['allow'] = [], limits: Partial<SourcePolicy> = {}): SourcePolicy {
  return { allow, maxBytes: 1024 * 1024, timeoutMs: 20_000, stallMs: 5_000, ...limits };
}

function src(entry: string, checksum = `sha256::${payloadSha}`) {
  return parseSource(entry, checksum, 'spec: SRCS');
}

/** Fetches into a fresh workspace; `cache` is per test unless shared on purpose. */
async function fetchInto(
  name: string,
  entries: ReturnType<typeof src>[],
  p: SourcePolicy,
  cache = path.join(work, 'ws', name, 'cache'),
) {
  const dest = path.join(work, 'ws', name, 'sources');
  await mkdir(path.dirname(dest), { recursive: true });
  const error = await fetchSources(entries, cache, dest, p).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );
  return { dest, cache, error };
}

async function serve(handler: RequestListener): Promise<CountingServer> {
  const s = await countingServer(handler);
  servers.push(s);
  return s;
}

async function expectCanaryIntact(): Promise<void> {
  expect(await readFile(path.join(canary, 'victim/keep'), 'utf8')).toBe('precious\n');
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'aoinb-srcsafe-'));
  canary = path.join(work, 'canary');
  await mkdir(path.join(canary, 'victim'), { recursive: true });
  await writeFile(path.join(canary, 'victim/keep'), 'precious\n');
  await writeFile(path.join(canary, 'secret.token'), 'do-not-copy\n');
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('source URLs and destinations', () => {
  it('never reads file:// and names hg, svn, git:// and ftp as not supported', async () => {
    const file = await fetchInto('file', [src(`file::file://${canary}/secret.token`, 'SKIP')], policy());
    expect(file.error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringContaining('file:// URLs are never fetched'),
    });
    expect(await readdir(file.dest).catch(() => [])).toEqual([]);
    for (const [entry, pattern] of [
      ['hg::https://hg.example.org/repo', /source type hg .* is not supported/],
      ['svn::https://svn.example.org/repo', /source type svn .* is not supported/],
      ['git://git.example.org/repo.git', /the git scheme is not supported; use https or http/],
      ['tbl::ftp://ftp.example.org/a.tar.gz', /the ftp scheme is not supported/],
    ] as const) {
      const { error } = await fetchInto('vcs', [src(entry, 'SKIP')], policy());
      expect(error).toMatchObject({ code: 'SOURCE_UNSUPPORTED', message: expect.stringMatching(pattern) });
    }
  });

  it('does not contact a loopback server unless [build] source_allow lists it', async () => {
    const server = await serve((_req, res) => res.end(payload));
    const refused = await fetchInto('loop', [src(`tbl::${server.url}/a.tar.gz`)], policy());
    expect(refused.error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringContaining(`127.0.0.1:${server.port} resolves to 127.0.0.1, a loopback address`),
    });
    // A name that resolves to loopback is the same destination.
    const byName = await fetchInto('loop-name', [src(`tbl::http://localhost:${server.port}/a.tar.gz`)], policy());
    expect(byName.error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringMatching(/localhost:\d+ resolves to (127\.0\.0\.1|::1), a loopback address/),
    });
    // Numeric spellings of loopback are normalised by the URL parser and refused the same way.
    const numeric = await fetchInto('loop-num', [src(`tbl::http://2130706433:${server.port}/a.tar.gz`)], policy());
    expect(numeric.error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringContaining('resolves to 127.0.0.1, a loopback address'),
    });
    // Another port on the same host is not what the allowlist names.
    const otherPort = await fetchInto(
      'loop-port',
      [src(`tbl::${server.url}/a.tar.gz`)],
      policy([{ host: '127.0.0.1', port: server.port + 1 }]),
    );
    expect(otherPort.error).toMatchObject({ code: 'SOURCE_FORBIDDEN' });
    expect(server.hits).toBe(0);

    const allowed = await fetchInto(
      'loop-ok',
      [src(`tbl::${server.url}/a.tar.gz`)],
      policy([{ host: '127.0.0.1', port: server.port }]),
    );
    expect(allowed.error).toBeUndefined();
    expect(await readFile(path.join(allowed.dest, 'a.tar.gz'))).toEqual(payload);
    expect(server.hits).toBe(1);
  });

  it('checks every redirect: an allowed server cannot send the host to a forbidden one', async () => {
    const forbidden = await serve((_req, res) => res.end(payload));
    const redirector = await serve((req, res) => {
      const to =
        req.url === '/to-file'
          ? `file://${canary}/secret.token`
          : req.url === '/to-v6'
            ? `http://[::1]:${forbidden.port}/a`
            : `http://127.0.0.1:${forbidden.port}/a.tar.gz`;
      res.writeHead(302, { location: to }).end();
    });
    const p = policy([{ host: '127.0.0.1', port: redirector.port }]);
    const toLoopback = await fetchInto('redir', [src(`tbl::${redirector.url}/a.tar.gz`)], p);
    expect(toLoopback.error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringContaining(`127.0.0.1:${forbidden.port} resolves to 127.0.0.1, a loopback address`),
    });
    const toV6 = await fetchInto('redir-v6', [src(`tbl::${redirector.url}/to-v6`, 'SKIP')], p);
    expect(toV6.error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringContaining('::1, a loopback address'),
    });
    const toFile = await fetchInto('redir-file', [src(`tbl::${redirector.url}/to-file`, 'SKIP')], p);
    expect(toFile.error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringContaining(`redirect from ${redirector.url}/to-file`),
    });
    expect(forbidden.hits).toBe(0);
    expect(await readdir(toFile.dest)).toEqual([]);
  });

  it('stops oversize and stalled downloads and leaves nothing in the cache or the workspace', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 1);
    const server = await serve((req, res) => {
      if (req.url === '/declared.tar.gz') res.writeHead(200, { 'content-length': String(big.length) }).end(big);
      else if (req.url === '/chunked.tar.gz') {
        res.writeHead(200);
        const write = (n: number): void =>
          void (n > 0 ? res.write(Buffer.alloc(256 * 1024, 2), () => write(n - 1)) : res.end());
        write(12);
      } else res.writeHead(200, { 'content-length': '100' }).write('x'); // then nothing, ever
    });
    const p = policy([{ host: '127.0.0.1', port: server.port }], { stallMs: 1000 });
    const declared = await fetchInto('big1', [src(`tbl::${server.url}/declared.tar.gz`)], p);
    expect(declared.error).toMatchObject({
      code: 'SOURCE_FETCH_FAILED',
      message: expect.stringContaining(`download of ${big.length} bytes is larger than [build] source_max_mib (1 MiB)`),
    });
    const chunked = await fetchInto('big2', [src(`tbl::${server.url}/chunked.tar.gz`, 'SKIP')], p);
    expect(chunked.error).toMatchObject({
      message: expect.stringContaining('download is larger than [build] source_max_mib (1 MiB)'),
    });
    const started = Date.now();
    const stalled = await fetchInto('stall', [src(`tbl::${server.url}/stall.tar.gz`)], p);
    expect(stalled.error).toMatchObject({
      code: 'SOURCE_FETCH_FAILED',
      message: expect.stringContaining('no data for 1 s'),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const d of [declared, chunked, stalled]) {
      expect(await readdir(d.dest)).toEqual([]);
      expect(await readdir(path.join(d.cache, 'files')).catch(() => [])).toEqual([]);
    }
  });

  it('puts only verified files into the cache', async () => {
    let body = Buffer.from('tampered\n');
    const server = await serve((_req, res) => res.end(body));
    const p = policy([{ host: '127.0.0.1', port: server.port }]);
    const cache = path.join(work, 'verified-cache');
    const bad = await fetchInto('sum-bad', [src(`tbl::${server.url}/a.tar.gz`)], p, cache);
    expect(bad.error).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(await readdir(path.join(cache, 'files'))).toEqual([]);
    body = payload;
    const good = await fetchInto('sum-good', [src(`tbl::${server.url}/a.tar.gz`)], p, cache);
    expect(good.error).toBeUndefined();
    expect(await readdir(path.join(cache, 'files'))).toEqual([`sha256-${payloadSha}`]);
    const again = await fetchInto('sum-hit', [src(`tbl::${server.url}/a.tar.gz`)], p, cache);
    expect(again.error).toBeUndefined();
    expect(await readFile(path.join(again.dest, 'a.tar.gz'))).toEqual(payload);
    expect(server.hits).toBe(2);
  });
});

describe('names from a bundle', () => {
  it('refuses rename= and URL names that leave the sources folder, before any fetch', async () => {
    const server = await serve((_req, res) => res.end(payload));
    const p = policy([{ host: '127.0.0.1', port: server.port }]);
    const hostile = `../../../${path.relative(path.join(work, 'ws/x/sources'), path.join(canary, 'victim'))}`;
    for (const [entry, key] of [
      [`tbl::rename=${hostile}::${server.url}/a.tar.gz`, 'rename='],
      [`git::commit=HEAD;rename=${hostile}::${server.url}/repo.git`, 'rename='],
      [`tbl::rename=..::${server.url}/a.tar.gz`, 'rename='],
      [`tbl::rename=a\tb::${server.url}/a.tar.gz`, 'rename='],
      ['pypi::version=1::../../victim', 'pypi project name'],
    ] as const) {
      const { error } = await fetchInto('x', [src(entry)], p);
      expect(error, entry).toMatchObject({ code: 'BUNDLE_UNSAFE', message: expect.stringContaining(key) });
    }
    const dup = await fetchInto('dup', [src(`tbl::${server.url}/a.tar.gz`), src(`tbl::${server.url}/b/a.tar.gz`)], p);
    expect(dup.error).toMatchObject({ message: expect.stringContaining('would both be named "a.tar.gz"') });
    const reserved = await fetchInto('manifest', [src(`tbl::rename=manifest::${server.url}/a.tar.gz`)], p);
    expect(reserved.error).toMatchObject({ message: expect.stringContaining('"manifest" is reserved') });
    expect(server.hits).toBe(0);
    await expectCanaryIntact();
  });
});

describe('git sources through the checked proxy', () => {
  let repoServer: FileServer;
  let commit: string;

  beforeAll(async () => {
    const repo = path.join(work, 'upstream');
    await mkdir(repo);
    const g = (args: string[], cwd = repo) =>
      execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd });
    await g(['init', '-q', '-b', 'main']);
    await writeFile(path.join(repo, 'README'), 'hello\n');
    await g(['add', 'README']);
    await g(['commit', '-q', '-m', 'one']);
    commit = (await g(['rev-parse', 'HEAD'])).stdout.trim();
    await g(['clone', '-q', '--bare', repo, path.join(work, 'served/repo.git')], work);
    await g(['update-server-info'], path.join(work, 'served/repo.git'));
    repoServer = await serveFolder({ dir: path.join(work, 'served') });
  });
  afterAll(async () => {
    await repoServer?.close();
  });

  it('clones an allowlisted mirror and refuses a forbidden one, naming the address', async () => {
    const url = `${repoServer.url}/repo.git`;
    const ok = await fetchInto(
      'git-ok',
      [src(`git::commit=${commit}::${url}`, 'SKIP')],
      policy([{ host: '127.0.0.1', port: repoServer.port }]),
    );
    expect(ok.error).toBeUndefined();
    expect(await readFile(path.join(ok.dest, 'repo/README'), 'utf8')).toBe('hello\n');
    const refused = await fetchInto(
      'git-no',
      [src(`git::commit=${commit}::${url.replace('127.0.0.1', 'localhost')}`, 'SKIP')],
      policy(),
    );
    expect(refused.error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringMatching(/git source .*: localhost:\d+ resolves to .*loopback address/),
    });
    expect(await readdir(refused.dest)).toEqual([]);
  });

  it('checks the hosts of submodules too, and removes only the checkout it made', async () => {
    // A second repository with a submodule whose URL names another, forbidden, destination.
    const forbidden = await serve((_req, res) => res.end('x'));
    const repo = path.join(work, 'with-sub');
    await mkdir(repo);
    const g = (args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
    await g(['init', '-q', '-b', 'main']);
    await writeFile(
      path.join(repo, '.gitmodules'),
      `[submodule "sub"]\n\tpath = sub\n\turl = http://localhost:${forbidden.port}/repo.git\n`,
    );
    await g(['update-index', '--add', '--cacheinfo', `160000,${commit},sub`]);
    await g(['add', '.gitmodules']);
    await g(['commit', '-q', '-m', 'sub']);
    await g(['clone', '-q', '--bare', repo, path.join(work, 'served/with-sub.git')]);
    await execa('git', ['update-server-info'], { cwd: path.join(work, 'served/with-sub.git') });
    const p = policy([{ host: '127.0.0.1', port: repoServer.port }]);
    const { error, dest } = await fetchInto(
      'git-sub',
      [src(`git::commit=main::${repoServer.url}/with-sub.git`, 'SKIP')],
      p,
    );
    expect(error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringContaining(`localhost:${forbidden.port} resolves to`),
    });
    expect(forbidden.hits).toBe(0);
    expect(await readdir(dest)).toEqual([]);
    const without = await fetchInto(
      'git-nosub',
      [src(`git::commit=main;submodule=false::${repoServer.url}/with-sub.git`, 'SKIP')],
      p,
    );
    expect(without.error).toBeUndefined();
  });

  it('stops a git fetch larger than the size limit', async () => {
    const { error, dest } = await fetchInto(
      'git-big',
      [src(`git::commit=${commit}::${repoServer.url}/repo.git`, 'SKIP')],
      policy([{ host: '127.0.0.1', port: repoServer.port }], { maxBytes: 40 }),
    );
    expect(error).toMatchObject({
      code: 'SOURCE_FETCH_FAILED',
      message: expect.stringContaining('download is larger than [build] source_max_mib'),
    });
    expect(await readdir(dest)).toEqual([]);
  });

  it('checks where git is redirected to', async () => {
    const forbidden = await serve((_req, res) => res.end('x'));
    const redirector = await serve((req, res) =>
      res.writeHead(301, { location: `http://127.0.0.1:${forbidden.port}${req.url}` }).end(),
    );
    const { error } = await fetchInto(
      'git-redir',
      [src(`git::commit=${commit}::${redirector.url}/repo.git`, 'SKIP')],
      policy([{ host: '127.0.0.1', port: redirector.port }]),
    );
    expect(error).toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message: expect.stringContaining(`127.0.0.1:${forbidden.port} resolves to 127.0.0.1, a loopback address`),
    });
    expect(redirector.hits).toBeGreaterThan(0);
    expect(forbidden.hits).toBe(0);
  });
});
