import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliFarm } from '../test-support/cli-farm.ts';

let farm: CliFarm;

beforeAll(async () => {
  farm = await CliFarm.start();
});
afterAll(async () => {
  await farm?.stop();
});

/** Task ids by state, from the coordinator itself. */
async function tasksIn(state: string): Promise<string[]> {
  const list = (await farm.api('GET', `/task?state=${state}`)).body as { tasks: Array<{ id: string }> };
  return list.tasks.map((t) => t.id);
}

async function submitted(name: string, fake: Record<string, unknown> = {}): Promise<string> {
  const run = await farm.run(['submit', await farm.bundle(name, fake), '--branch', 'stable', '--no-wait']);
  expect(run.exitCode, run.stderr).toBe(0);
  return run.stdout.trim();
}

async function ended(id: string): Promise<void> {
  await farm.waitFor(
    async () =>
      ['succeeded', 'failed', 'cancelled'].includes(
        ((await farm.api('GET', `/task/${id}/status`)).body as { state: string }).state,
      ),
    `task ${id} to end`,
  );
}

describe('aoinb farm commands against a real coordinator and redis-server', () => {
  it('status exits 0 for a succeeded task, 1 for a failed or cancelled one', async () => {
    const good = await submitted('status-good');
    const bad = await submitted('status-bad', { fail: 'told to fail' });
    const slow = await submitted('status-slow', { durationMs: 60_000 });
    await Promise.all([ended(good), ended(bad)]);
    expect((await farm.run(['status', good])).exitCode).toBe(0);
    const failed = await farm.run(['status', bad]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toMatch(/failed +.*told to fail/);
    expect(JSON.parse((await farm.run(['status', bad, '--json'])).stdout).state).toBe('failed');
    expect((await farm.run(['cancel', slow])).exitCode).toBe(0);
    await ended(slow);
    expect((await farm.run(['status', slow])).exitCode).toBe(1);
  });

  it('delete removes a task never built; a built one only for an admin, 403 for a worker token, 404 after', async () => {
    const created = (await farm.api('POST', '/task')).body as { id: string };
    expect((await farm.api('DELETE', `/task/${created.id}`, 'worker')).status).toBe(403);
    const deleted = await farm.run(['delete', created.id]);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe(`task ${created.id}: deleted`);
    expect((await farm.api('GET', `/task/${created.id}/status`)).status).toBe(404);
    expect(await tasksIn('created')).not.toContain(created.id);
    const again = await farm.run(['delete', created.id]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/does not exist.*\[NOT_FOUND\]$/);

    const built = await submitted('delete-built');
    await ended(built);
    const refused = await farm.api('DELETE', `/task/${built}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      error: { code: 'FORBIDDEN', message: expect.stringContaining('needs the admin role') },
    });
    const cli = await farm.run(['delete', built]);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toMatch(/\(HTTP 403\) \[FORBIDDEN\]$/);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect((await farm.api('DELETE', `/task/${built}`, 'admin')).status).toBe(200);
    expect((await farm.api('GET', `/task/${built}/status`)).status).toBe(404);
    // `aoinb group delete` reaches DELETE /group/:id (admin only).
    const group = await farm.run(['group', 'delete', '999']);
    expect(group.exitCode).toBe(1);
    expect(group.stderr).toMatch(/may not DELETE \/group\/:id; it needs the admin role.*\[FORBIDDEN\]$/);
  });

  it('a submit that fails after creating its task deletes it again: no orphan in created', async () => {
    const before = await tasksIn('created');
    const run = await farm.run(['submit', await farm.bundle('orphan'), '--branch', 'nosuch']);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/nosuch.*\[SOURCE_LIST_MISSING\]$/);
    expect(run.stderr.split('\n')).toHaveLength(1);
    expect(await tasksIn('created')).toEqual(before);
    // --tree: names are resolved and packed before any task exists.
    const tree = path.join(farm.root, 'tree-submit');
    await cp(await farm.bundle('in-tree'), path.join(tree, 'utils/in-tree'), { recursive: true });
    const unknown = await farm.run(['submit', '--tree', tree, 'in-tree', 'not-in-tree', '--branch', 'stable']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(
      /^aoinb: package "not-in-tree": no package named not-in-tree in the tree .*\[NOT_FOUND\]$/,
    );
    expect(await tasksIn('created')).toEqual(before);
    const fromTree = await farm.run(['submit', '--tree', tree, 'in-tree', '--branch', 'stable', '--no-wait']);
    expect(fromTree.exitCode, fromTree.stderr).toBe(0);
    expect(fromTree.stderr).toMatch(/submitted in-tree \(utils\/in-tree\) as task \d+/);
  });

  it('a group whose submission fails part-way deletes the member tasks it created', async () => {
    const tree = path.join(farm.root, 'tree');
    await mkdir(path.join(tree, 'groups'), { recursive: true });
    await cp(await farm.bundle('member-a'), path.join(tree, 'utils/member-a'), { recursive: true });
    await cp(await farm.bundle('member-b'), path.join(tree, 'utils/member-b'), { recursive: true });
    await writeFile(path.join(tree, 'groups/broken'), 'utils/member-a\nutils/member-b\nutils/not-there\n');
    const before = await tasksIn('created');
    const run = await farm.run(['group', 'groups/broken', '--tree', tree, '--branch', 'stable']);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/utils\/not-there.*has no spec \[GROUP_INVALID\]$/);
    expect(await tasksIn('created')).toEqual(before);
  });

  it('download fetches the .debs with verified checksums, and refuses a file that does not match', async () => {
    const id = await submitted('fetch-me');
    await ended(id);
    const dest = path.join(farm.root, 'downloads');
    const run = await farm.run(['download', id, '--dest', dest, '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { files: Array<{ name: string; path: string; sha256: string }> };
    expect(report.files).toHaveLength(1);
    const file = report.files[0]!;
    expect(file.name).toMatch(/^fetch-me_1\.0-0_amd64\.deb$/);
    expect(
      createHash('sha256')
        .update(await readFile(file.path))
        .digest('hex'),
    ).toBe(file.sha256);

    // The stored artifact changes behind the farm's back: the download must not keep it.
    const stored = path.join(farm.root, 'storage/tasks', id, 'artifacts/amd64');
    const attempt = (await readdir(stored))[0]!;
    await writeFile(path.join(stored, attempt, file.name), 'not the deb the farm recorded');
    const bad = path.join(farm.root, 'bad-downloads');
    const mismatch = await farm.run(['download', id, '--dest', bad]);
    expect(mismatch.exitCode).toBe(1);
    expect(mismatch.stderr).toMatch(/fetch-me_1\.0-0_amd64\.deb .*SHA-256.*not kept \[CHECKSUM_MISMATCH\]$/);
    expect(await readdir(bad)).toEqual([]);
    expect((await farm.run(['download', id, '--arch', 'riscv64'])).stderr).toMatch(
      /no build for riscv64.*\[NOT_FOUND\]/,
    );
  });

  it('logs --json and --run N pick a run of the log', async () => {
    const id = await submitted('logs-runs', { fail: 'first run fails', lines: 3 });
    await ended(id);
    const first = JSON.parse((await farm.run(['logs', id, '--json'])).stdout) as {
      task: string;
      arch: string;
      run: number;
      lines: string[];
    };
    expect(first).toMatchObject({ task: id, arch: 'amd64', run: 1 });
    expect(first.lines.length).toBeGreaterThan(0);
    expect((await farm.run(['retry', id])).exitCode).toBe(0);
    await ended(id);
    const second = JSON.parse((await farm.run(['logs', id, '--json'])).stdout) as { run: number };
    expect(second.run).toBe(2);
    const old = await farm.run(['logs', id, '--run', '1']);
    expect(old.stdout).toBe(first.lines.join('\n'));
    const followed = await farm.run(['logs', id, '-f', '--json', '--run', '1']);
    const events = followed.stdout
      .split('\n')
      .map((line) => JSON.parse(line) as { line?: string; end?: { state: string } });
    expect(events.at(-1)?.end?.state).toBe('failed');
    expect((await farm.run(['logs', id, '--run', '0'])).stderr).toMatch(
      /option '--run <n>' argument '0' is invalid.*\[USAGE\]/,
    );
    expect((await farm.run(['logs', id, '--run', '9'])).stderr).toMatch(/no run 9.*\[NOT_FOUND\]/);
  });
  it('republish: a refused same-version rebuild, then an admin --replace replaces the listed deb', async () => {
    const first = await submitted('replace-me');
    await ended(first);
    // Built 1.5 s later: the fake deb's mtimes, so its bytes, differ; same name, version and arch.
    const again = await submitted('replace-me', { durationMs: 1500 });
    await ended(again);
    const status = (await farm.api('GET', `/task/${again}/status`)).body as {
      state: string;
      jobs: Array<{ reason: string | null; artifacts: Array<{ name: string; sha256: string }> }>;
    };
    expect(status.state).toBe('failed');
    expect(status.jobs[0]?.reason).toMatch(/refused the publish: replace-me 1\.0-0 \(amd64\) is already published/);
    const rebuilt = status.jobs[0]!.artifacts[0]!;
    const packages = async (): Promise<string> => (await fetch(`${farm.url}/repo/stable/Packages`)).text();
    expect(await packages()).not.toContain(rebuilt.sha256);

    const maintainer = await farm.run(['republish', again, '--replace']);
    expect(maintainer.exitCode).toBe(1);
    expect(maintainer.stderr).toMatch(/admin.*\(HTTP 403\) \[FORBIDDEN\]$/);
    const admin = { AOINB_TOKEN_FILE: path.join(farm.configDir, 'secrets', 'admin.token') };
    const plain = await farm.run(['republish', again], admin);
    expect(plain.exitCode).toBe(1);
    expect(plain.stderr).toMatch(
      /refused the publish: replace-me 1\.0-0 \(amd64\) is already published as replace-me_1\.0-0_amd64\.deb with sha256 [0-9a-f]{64}/,
    );
    expect(plain.stderr).toMatch(/\(HTTP 409\); add --replace to replace the listed deb \[REPO_CONFLICT\]$/);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const replaced = await farm.run(['republish', again, '--replace', '--arch', 'amd64'], admin);
    expect(replaced.exitCode, replaced.stderr).toBe(0);
    expect(replaced.stdout).toBe(`task ${again} amd64 -> stable: replaced ${rebuilt.name}`);
    const after = await packages();
    expect(after).toContain(`SHA256: ${rebuilt.sha256}`);
    expect(after.match(/^Package: replace-me$/gm)).toHaveLength(1);
    const repeat = await farm.run(['republish', again, '--json'], admin);
    expect(JSON.parse(repeat.stdout)).toEqual({
      task: again,
      results: [{ arch: 'amd64', branch: 'stable', added: [], unchanged: [rebuilt.name], replaced: [] }],
    });
  });
});
