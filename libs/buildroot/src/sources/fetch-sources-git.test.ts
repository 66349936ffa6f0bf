import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFolder, type FileServer } from '@aoinb/testkit';
import { policy, src, useSourceFetchFixture } from '../../test-support/source-fetch-fixture.ts';

/** git sources: cloned through the checking proxy, submodules and redirects checked, the size limit held. */
const fx = useSourceFetchFixture();
const { fetchInto, serve } = fx;

describe('git sources through the checked proxy', () => {
  let repoServer: FileServer;
  let commit: string;

  beforeAll(async () => {
    const repo = path.join(fx.work, 'upstream');
    await mkdir(repo);
    const g = (args: string[], cwd = repo) =>
      execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd });
    await g(['init', '-q', '-b', 'main']);
    await writeFile(path.join(repo, 'README'), 'hello\n');
    await g(['add', 'README']);
    await g(['commit', '-q', '-m', 'one']);
    commit = (await g(['rev-parse', 'HEAD'])).stdout.trim();
    await g(['clone', '-q', '--bare', repo, path.join(fx.work, 'served/repo.git')], fx.work);
    await g(['update-server-info'], path.join(fx.work, 'served/repo.git'));
    repoServer = await serveFolder({ dir: path.join(fx.work, 'served') });
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
    const repo = path.join(fx.work, 'with-sub');
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
    await g(['clone', '-q', '--bare', repo, path.join(fx.work, 'served/with-sub.git')]);
    await execa('git', ['update-server-info'], { cwd: path.join(fx.work, 'served/with-sub.git') });
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
