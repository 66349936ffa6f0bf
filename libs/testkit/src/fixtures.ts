// Test fixtures that register vitest hooks or build farm records: `@aoinb/testkit/fixtures`,
// apart from the index so that the quick start and benches, which import the index, load neither vitest nor the store.
export { useRedisFixture, type RedisFixture } from './redis-fixture.ts';
export { useTempDir, type TempDir } from './temp-dir.ts';
export { queueTestTask, testBuild, testBundle, testTask } from './store-records.ts';
