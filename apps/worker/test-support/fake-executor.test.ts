import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { fakeExecutor } from './fake-executor.ts';
import { SlotGate } from '../src/slot-gate.ts';

describe('the fake executor', () => {
  const tmp = useTempDir('aoinb-fake-');

  it('writes its lines and a real .deb that dpkg-deb reads', async () => {
    const lines: string[] = [];
    const result = await fakeExecutor({ durationMs: 50, lines: 3 }).run(
      {
        buildId: 'b1',
        bundleDir: tmp.dir,
        branch: 'stable',
        arch: 'arm64',
        outputDir: path.join(tmp.dir, 'out1'),
        onLogLine: (l) => lines.push(l),
      },
      { name: 'demo', version: '2:1.5-3', noarch: false },
    );
    expect(result.status).toBe('succeeded');
    expect(lines.slice(0, 3)).toEqual(['fake build line 0', 'fake build line 1', 'fake build line 2']);
    const deb = result.artifacts[0]!;
    expect(deb.name).toBe('demo_1.5-3_arm64.deb');
    const fields = await execa('dpkg-deb', ['--field', deb.file, 'Package', 'Version', 'Architecture']);
    expect(fields.stdout).toBe('Package: demo\nVersion: 2:1.5-3\nArchitecture: arm64');
  });

  it('follows fake-build.json in the bundle, and stops at once when aborted', async () => {
    await writeFile(path.join(tmp.dir, 'fake-build.json'), JSON.stringify({ durationMs: 30_000 }));
    const controller = new AbortController();
    // Aborted once the build is under way (its first line), not after a guessed delay.
    const request = { buildId: 'b2', bundleDir: tmp.dir, branch: 'stable', signal: controller.signal };
    const result = await fakeExecutor().run(
      { ...request, outputDir: path.join(tmp.dir, 'out2'), onLogLine: () => controller.abort() },
      { name: 'demo', version: '1-0', noarch: true },
    );
    expect(result).toMatchObject({ status: 'cancelled', reason: 'cancelled', artifacts: [] });
    // It stopped at the abort: an executor deaf to it would have slept out the plan's 30 s (its own deadline).
    expect(result.phases.build).toBeLessThan(30_000);
    await writeFile(path.join(tmp.dir, 'fake-build.json'), JSON.stringify({ durationMs: 0, fail: 'nope' }));
    expect(
      await fakeExecutor().run(
        { buildId: 'b3', bundleDir: tmp.dir, branch: 'stable', outputDir: path.join(tmp.dir, 'out3') },
        { name: 'demo', version: '1-0', noarch: true },
      ),
    ).toMatchObject({ status: 'failed', reason: 'nope', artifacts: [] });
  });
});

describe('a fake build held until a file exists', () => {
  const tmp = useTempDir('aoinb-fake-hold-');

  it('runs until the test creates the file, and stops at once when aborted meanwhile', async () => {
    const gate = path.join(tmp.dir, 'go');
    const lines: string[] = [];
    let ended = false;
    const request = { branch: 'stable', bundleDir: tmp.dir, onLogLine: (l: string) => lines.push(l) };
    const pkg = { name: 'held', version: '1-0', noarch: true };
    const held = fakeExecutor({ durationMs: 0, lines: 2, holdUntilFile: gate })
      .run({ ...request, buildId: 'h1', outputDir: path.join(tmp.dir, 'out1') }, pkg)
      .finally(() => (ended = true));
    // Its lines are out and it still runs: the same build without the hold, started after it, has ended meanwhile.
    await expect.poll(() => lines.length, { timeout: 120_000 }).toBe(2);
    const free = await fakeExecutor({ durationMs: 0, lines: 2 }).run(
      { ...request, buildId: 'h0', outputDir: path.join(tmp.dir, 'out0') },
      pkg,
    );
    expect(free.status).toBe('succeeded');
    expect(ended).toBe(false);
    await writeFile(gate, '');
    expect(await held).toMatchObject({ status: 'succeeded' });
    expect(lines).toHaveLength(2 + 1 + 2 + 1);

    const controller = new AbortController();
    const aborted = fakeExecutor({ durationMs: 0, lines: 1, holdUntilFile: path.join(tmp.dir, 'never') }).run(
      {
        ...request,
        buildId: 'h2',
        outputDir: path.join(tmp.dir, 'out2'),
        signal: controller.signal,
        onLogLine: () => controller.abort(),
      },
      pkg,
    );
    expect(await aborted).toMatchObject({ status: 'cancelled', artifacts: [] });
  });
});

describe('SlotGate', () => {
  it('reports full when the last slot is taken and free when one comes back', () => {
    const changes: boolean[] = [];
    const gate = new SlotGate(2, (full) => changes.push(full));
    expect([gate.tryTake(), gate.tryTake(), gate.tryTake()]).toEqual([true, true, false]);
    gate.release();
    expect(gate.tryTake()).toBe(true);
    gate.release();
    gate.release();
    expect(changes).toEqual([true, false, true, false]);
    expect(gate.used).toBe(0);
  });
});
