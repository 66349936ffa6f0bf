import { describe, expect, it } from 'vitest';
import { testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';

/**
 * The event the delete of a never-built task (delete-task-script.ts) leaves, where the other store tests do
 * not look: metrics and the group scheduler read the stream, and a deleted task has no record left to read.
 * Each assertion held a surviving mutant of scripts/lua-mutation.ts.
 */
describe('the delete of a created task', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));

  it('leaves one event, `deleted` from `created`, at the time of the delete', async () => {
    await db.store.createTask(testTask('1'));
    const before = new Date().toISOString();
    expect(await db.store.deleteCreatedTask('1')).toEqual({ deleted: true, state: 'created', groupId: '' });
    const after = new Date().toISOString();
    const events = (await db.redis.xrange(farmKeys.events, '-', '+')).map(([, fields]) => fields);
    expect(events).toHaveLength(2); // the create's, then the delete's
    const [type, at] = [events[1]?.slice(0, -1), events[1]?.at(-1) ?? ''];
    expect(type).toEqual(['type', 'task', 'taskId', '1', 'state', 'deleted', 'from', 'created', 'at']);
    expect(at >= before && at <= after).toBe(true);
  });
});
