import { access, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '@aoinb/buildroot';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';

const bin = fileURLToPath(new URL('../bin/aoinb.js', import.meta.url));
let host: BuildHost;

beforeAll(async () => {
  host = await createBuildHost({ loadBase: false });
});
afterAll(async () => {
  await host?.close();
});

function aoinb(
  args: string[],
  options: { buffer?: boolean } = {},
): ResultPromise<{ reject: false; all: true; buffer: boolean }> {
  return execa(process.execPath, [bin, '-c', host.configDir, ...args], {
    reject: false,
    all: true,
    buffer: options.buffer ?? true,
  });
}

/** Resolves once the child has printed a line matching `pattern`. */
function waitForOutput(child: ResultPromise, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.all!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) resolve();
    });
    child.once('exit', () => reject(new Error(`exited before printing ${pattern}:\n${seen}`)));
  });
}

async function nspawnsUnder(dir: string): Promise<string> {
  return (await execa('pgrep', ['-af', `systemd-nspawn.*${dir}`], { reject: false })).stdout;
}

describe('aoinb (the CLI) on one host', () => {
  it('explains usage and bad config', async () => {
    const help = await execa(process.execPath, [bin, '--help'], { reject: false });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('load-baseos');
    const missing = await execa(process.execPath, [bin, '-c', path.join(host.dir, 'nope'), 'build', 'x', 'stable'], {
      reject: false,
    });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/configuration folder .*nope does not exist/);
    // -c works after the command name too (aoinb worker -c DIR).
    const after = await execa(process.execPath, [bin, 'cleanup', 'no-such', '-c', path.join(host.dir, 'nope')], {
      reject: false,
    });
    expect(after.stderr).toMatch(/configuration folder .*nope does not exist/);
    const badBranch = await aoinb(['build', await host.exampleBundle(), 'unstable']);
    expect(badBranch.exitCode).toBe(1);
    expect(badBranch.all).toContain(`${path.join(host.configDir, 'source_lists/unstable.list')} does not exist`);
  });

  it('loads the base OS from a local tarball', async () => {
    const result = await aoinb(['load-baseos']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(`base OS loaded from ${host.workDir}/buildkit_`);
    await access(path.join(host.workDir, 'baseos/etc/aoinb-test-baseos'));
    expect((await readdir(host.workDir)).filter((e) => e.startsWith('baseos.new'))).toEqual([]);
  });

  it('an interrupted load-baseos leaves the loaded base OS as it was', async () => {
    await writeFile(path.join(host.workDir, 'baseos/etc/marker'), 'old base');
    const child = aoinb(['load-baseos'], { buffer: false });
    await waitForOutput(child, /extracting/);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    await access(path.join(host.workDir, 'baseos/etc/marker'));
    expect((await readdir(host.workDir)).filter((e) => e.startsWith('baseos.new'))).toEqual([]);
  });

  it('builds the example and prints a summary naming the deb', async () => {
    const result = await aoinb(['build', await host.exampleBundle(), 'stable']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(
      /^succeeded: hello-aoinb 1\.0-0 \(\w+\) in [\d.]+ s: hello-aoinb-dbg_1\.0-0_\w+\.deb, hello-aoinb_1\.0-0_\w+\.deb \[cpu [\d.]+ s, peak memory [\d.]+ \w+, disk [\d.]+ \w+\]$/m,
    );
  });

  it('Ctrl-C stops the container and releases every mount', async () => {
    const bundle = await host.exampleBundle('sigint');
    await writeFile(path.join(bundle, 'autobuild/build'), 'abinfo "sleeping now"\nsleep 300\n');
    const child = aoinb(['build', bundle, 'stable'], { buffer: false });
    await waitForOutput(child, /sleeping now/);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(await mountsUnder(host.workDir)).toEqual([]);
    expect(await nspawnsUnder(host.workDir)).toBe('');
  });

  it('after a SIGKILL mid-build, the next command cleans the mounts and container up', async () => {
    const bundle = await host.exampleBundle('sigkill');
    await writeFile(path.join(bundle, 'autobuild/build'), 'abinfo "sleeping now"\nsleep 300\n');
    const child = aoinb(['build', bundle, 'stable'], { buffer: false });
    await waitForOutput(child, /sleeping now/);
    // The CLI is node running tsx's loader in-process, so this kills aoinb itself.
    child.kill('SIGKILL');
    await child;
    expect((await mountsUnder(host.workDir)).length).toBeGreaterThan(0);
    const next = await aoinb(['cleanup', 'no-such-instance']);
    expect(next.exitCode).toBe(1);
    expect(next.stderr).toContain('no instance named no-such-instance (existing instances: stable)');
    expect(await mountsUnder(host.workDir)).toEqual([]);
    expect(await nspawnsUnder(host.workDir)).toBe('');
    expect(await readdir(path.join(host.workDir, 'workspaces'))).toEqual([]);
  });

  it('cleanup destroys an instance, the base OS, or everything', async () => {
    expect((await aoinb(['cleanup', 'stable'])).stdout).toContain('destroyed: instance stable');
    await expect(access(path.join(host.workDir, 'instances/stable'))).rejects.toThrow();
    expect((await aoinb(['cleanup', 'baseos'])).stdout).toContain('destroyed: baseos');
    const build = await aoinb(['build', await host.exampleBundle(), 'stable']);
    expect(build.exitCode).toBe(1);
    expect(build.stderr).toContain('run "aoinb load-baseos" first');
    expect((await aoinb(['load-baseos'])).exitCode).toBe(0);
    expect((await aoinb(['build', await host.exampleBundle(), 'stable'])).exitCode).toBe(0);
    const all = await aoinb(['cleanup', 'all']);
    expect(all.stdout).toContain('destroyed: instance stable, baseos');
    expect((await aoinb(['cleanup', 'all'])).stdout).toContain('nothing to destroy');
    expect(JSON.parse((await aoinb(['cleanup', 'all', '--json'])).stdout)).toEqual({ destroyed: [] });
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });
});
