import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { payload, payloadSha, policy, src, useSourceFetchFixture } from '../../test-support/source-fetch-fixture.ts';

/** Archive sources over http(s): schemes, destinations, redirects, limits, the cache, and names from a bundle. */
const fx = useSourceFetchFixture();
const { fetchInto, serve, expectCanaryIntact } = fx;

describe('source URLs and destinations', () => {
  it('never reads file:// and names hg, svn, git:// and ftp as not supported', async () => {
    const file = await fetchInto('file', [src(`file::file://${fx.canary}/secret.token`, 'SKIP')], policy());
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
          ? `file://${fx.canary}/secret.token`
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
    // The whole fetch's timeout is the slow outcome the stall check must beat (by its message and its time).
    const p = policy([{ host: '127.0.0.1', port: server.port }], { stallMs: 1000, timeoutMs: 200_000 });
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
    expect(Date.now() - started).toBeLessThan(p.timeoutMs);
    for (const d of [declared, chunked, stalled]) {
      expect(await readdir(d.dest)).toEqual([]);
      expect(await readdir(path.join(d.cache, 'files')).catch(() => [])).toEqual([]);
    }
  });

  it('puts only verified files into the cache', async () => {
    let body = Buffer.from('tampered\n');
    const server = await serve((_req, res) => res.end(body));
    const p = policy([{ host: '127.0.0.1', port: server.port }]);
    const cache = path.join(fx.work, 'verified-cache');
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
    const hostile = `../../../${path.relative(path.join(fx.work, 'ws/x/sources'), path.join(fx.canary, 'victim'))}`;
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
