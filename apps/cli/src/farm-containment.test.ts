import { appendFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '@aoinb/buildroot';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { freePort } from '@aoinb/testkit';
import { startFarmUp, type FarmUpProcess } from '../test-support/farm-up-process.ts';

/**
 * `farm up` against a hostile build script: the secrets live in 0600 files, no
 * process on the host carries them in its environment, the embedded Redis wants
 * its password, and a build sees neither secret nor route to Redis or the API.
 */
const bin = fileURLToPath(new URL('../bin/aoinb.js', import.meta.url));
const workerToken = 'farm-containment-worker-token-7d3a';
const maintainerToken = 'farm-containment-maintainer-token';
let host: BuildHost;
let farm: FarmUpProcess | undefined;
let apiPort: number;
let redisPort: number;

beforeAll(async () => {
  apiPort = await freePort();
  host = await createBuildHost({
    extraToml: [
      '[build]\ninstance_refresh_minutes = 600\nsample_interval_seconds = 0.5',
      `[coordinator]\nlisten = "127.0.0.1:${apiPort}"`,
      '[[tokens]]\nname = "maint"\nrole = "maintainer"\nfile = "secrets/maint.token"',
      '[[tokens]]\nname = "w"\nrole = "worker"\nfile = "secrets/worker.token"',
    ].join('\n\n'),
    beforeConfigLoad: async (configDir) => {
      await mkdir(path.join(configDir, 'secrets'), { recursive: true });
      await writeFile(path.join(configDir, 'secrets/maint.token'), maintainerToken);
      await writeFile(path.join(configDir, 'secrets/worker.token'), workerToken);
    },
  });
  farm = await startFarmUp(bin, host.configDir);
  redisPort = farm.redisPort();
});

afterAll(async () => {
  await farm?.stop();
  await host?.close();
});

/** Every process's environment on this host that holds `secret`. */
async function environsHolding(secret: string): Promise<string[]> {
  const holders: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (environ.includes(secret))
      holders.push(`${pid}: ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')}`);
  }
  return holders;
}

function redisReply(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(redisPort, '127.0.0.1', () => socket.write(command));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

describe('farm up: secrets by file only, a build with nothing to steal and nowhere to go', () => {
  it('keeps the worker token and the generated Redis password out of every environment, in 0600 files', async () => {
    const passwordFile = path.join(host.workDir, 'farm/redis/password');
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(host.workDir, 'farm/secrets/worker.token'))).mode & 0o777).toBe(0o600);
    const password = (await readFile(passwordFile, 'utf8')).trim();
    expect(password).toMatch(/^[0-9a-f]{64}$/);
    expect(await redisReply('PING\r\n')).toMatch(/^-NOAUTH/);
    expect(await redisReply(`AUTH ${password}\r\nPING\r\n`)).toMatch(/^\+OK/);
    expect(await environsHolding(workerToken)).toEqual([]);
    expect(await environsHolding(password)).toEqual([]);
  });

  it('a build script finds no secret, no route to Redis or the coordinator; the next build goes normally', async () => {
    const bundle = await host.exampleBundle('hostile');
    const tcp = (label: string, port: number) =>
      [
        `if timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' 2>/dev/null`,
        `then abinfo "probe ${label}: CONNECTED"`,
        `else abinfo "probe ${label}: no route"`,
        'fi',
      ].join('; ');
    await writeFile(
      path.join(bundle, 'autobuild/build'),
      [
        "abinfo \"probe pid1: $(tr '\\0' ' ' < /proc/1/environ)\"",
        "abinfo \"probe env: $(env | tr '\\n' ' ')\"",
        tcp('redis', redisPort),
        tcp('coordinator', apiPort),
        'mkdir -p "$PKGDIR"/usr/share/doc/hostile',
      ].join('\n'),
    );
    // A data-only package: autobuild4 finds no symbols to split.
    await appendFile(path.join(bundle, 'autobuild/defines'), 'ABSPLITDBG=0\n');
    // Its own version: the repository refuses other contents under the legitimate build's name and version.
    await appendFile(path.join(bundle, 'spec'), 'REL=1\n');
    const run = (args: string[]) =>
      execa(process.execPath, [bin, '-c', host.configDir, ...args], { reject: false, all: true });
    const submitted = await run(['submit', bundle, '--branch', 'stable']);
    expect(submitted.exitCode, submitted.all).toBe(0);
    const log = submitted.stdout;
    const probe = (name: string) => log.split('\n').find((l) => l.includes(`probe ${name}:`)) ?? `(no ${name} line)`;
    expect(probe('pid1')).not.toMatch(/AOINB_|farm-containment/);
    expect(probe('env')).not.toMatch(/AOINB_WORKER|AOINB_REDIS|farm-containment/);
    expect(probe('redis')).toMatch(/no route/);
    expect(probe('coordinator')).toMatch(/no route/);

    const legit = await run(['submit', await host.exampleBundle('after-hostile'), '--branch', 'stable']);
    expect(legit.exitCode, legit.all).toBe(0);
    expect(legit.stdout).toContain('Building hello-aoinb');
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });
});
