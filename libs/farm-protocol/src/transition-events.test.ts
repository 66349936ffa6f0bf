import { beforeEach, describe, expect, it } from 'vitest';
import { queueTestTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import type { TransitionRequest } from './build-transition.ts';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';

/**
 * The farm events the transition script writes in the same step as the change (transition-script.ts): one
 * build event when the build's state changes, one task event when the derived task state changes, each with
 * the ids, states, builder and the transition's own time; none for a change that keeps the state. Metrics,
 * notifications and the group scheduler read these entries. Each case was a surviving mutant of
 * scripts/lua-mutation.ts (the event not written, or written with another argument in a field).
 */
describe('the transition script writes the farm events of a change, and only those', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const archs = ['amd64', 'arm64'];
  const at = (arch: string) => ({ taskId: '1', arch, run: 1, archs });
  const claim = (arch: string, builder: string): TransitionRequest => ({
    ...at(arch),
    from: ['queued', 'running'],
    to: 'running',
    incrementAttempt: true,
    set: { builder },
  });

  /** The events written by `change`, each as an object of its fields. */
  async function eventsOf(change: () => Promise<unknown>): Promise<Array<Record<string, string>>> {
    const [last] = await db.redis.xrevrange(farmKeys.events, '+', '-', 'COUNT', 1);
    await change();
    const entries = await db.redis.xrange(farmKeys.events, `(${last?.[0] ?? '0-0'}`, '+');
    return entries.map(([, fields]) => {
      const event: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) event[fields[i]!] = fields[i + 1]!;
      return event;
    });
  }

  async function expectDone(req: TransitionRequest): Promise<void> {
    expect((await db.store.transition(req)).done).toBe(true);
  }

  beforeEach(async () => {
    expect(await queueTestTask(db.store, archs)).toBe('done');
  });

  it("writes a claim's build event and the task's, both at the transition's own time", async () => {
    const before = new Date().toISOString();
    const events = await eventsOf(() => expectDone(claim('amd64', 'w1')));
    const after = new Date().toISOString();
    const when = events[0]?.at ?? '';
    expect(events).toEqual([
      { type: 'build', taskId: '1', arch: 'amd64', state: 'running', from: 'queued', builder: 'w1', at: when },
      { type: 'task', taskId: '1', state: 'running', from: 'queued', at: when },
    ]);
    expect(when >= before && when <= after).toBe(true);
    expect((await db.store.getTask('1'))?.updatedAt).toBe(when);
  });

  it('writes no task event while the task keeps its state, none at all when the build keeps its own', async () => {
    await expectDone(claim('amd64', 'w1'));
    const second = await eventsOf(() => expectDone(claim('arm64', 'w2')));
    expect(second.map((e) => [e.type, e.arch, e.state, e.from, e.builder])).toEqual([
      ['build', 'arm64', 'running', 'queued', 'w2'],
    ]);
    // A cancel request on a running build and a placement note on a queued one keep the state: no event.
    const kept = await eventsOf(async () => {
      await expectDone({ ...at('amd64'), from: ['running'], set: { cancelRequested: true, reason: 'stop' } });
      await expectDone({ ...at('arm64'), from: ['running'], to: 'running', set: { reason: 'still' } });
    });
    expect(kept).toEqual([]);
    expect(await db.store.getBuild('1', 'amd64')).toMatchObject({ state: 'running', cancelRequested: true });
  });

  it('writes the final build events, then the task event of its final state, with the builder of each', async () => {
    await expectDone(claim('amd64', 'w1'));
    await expectDone(claim('arm64', 'w2'));
    const first = await eventsOf(() => expectDone({ ...at('amd64'), from: ['running'], to: 'succeeded' }));
    expect(first.map((e) => [e.type, e.arch, e.state, e.from, e.builder])).toEqual([
      ['build', 'amd64', 'succeeded', 'running', 'w1'],
    ]);
    const last = await eventsOf(() => expectDone({ ...at('arm64'), from: ['running'], to: 'failed' }));
    expect(last.map((e) => [e.type, e.taskId, e.state, e.from])).toEqual([
      ['build', '1', 'failed', 'running'],
      ['task', '1', 'failed', 'running'],
    ]);
    expect(last[1]?.at).toBe((await db.store.getTask('1'))?.finishedAt);
  });

  it('answers a transition of a build that is gone as gone, with nothing changed and no event', async () => {
    const task = await db.redis.hgetall(farmKeys.task('1'));
    let outcome: unknown;
    const events = await eventsOf(async () => {
      outcome = await db.store.transition({ ...claim('riscv64', 'w1'), archs: [...archs, 'riscv64'] });
    });
    expect(outcome).toEqual({
      done: false,
      cancelRequested: false,
      refusal: 'gone',
      state: '',
      run: 0,
      attempt: 0,
      taskState: '',
      previousState: '',
      previousBuilder: '',
    });
    expect(events).toEqual([]);
    expect(await db.redis.hgetall(farmKeys.task('1'))).toEqual(task);
    expect(await db.redis.exists(farmKeys.build('1', 'riscv64'))).toBe(0);
  });
});
