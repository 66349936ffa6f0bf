import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { snapshotHandles, trackHandles, waitForHandlesClosed, type HandleSnapshot } from './open-handles.ts';

/**
 * vitest setupFiles entry (see vitest.config.ts), in two scopes:
 *
 * - After each test: nothing the test opened is left (child processes, servers,
 *   timers and intervals, file watchers, signal handlers, Redis clients), against
 *   a snapshot taken before the test's own beforeEach hooks (this file's hooks
 *   are registered first; vitest runs after-hooks in stack order, so this check
 *   runs after the test file's own afterEach). What a file's beforeAll opens is
 *   the file's, closed by its afterAll; so is what a fixture started through
 *   `asFileFixture` opens, wherever it starts (a rig started lazily in the
 *   first test's beforeEach) and whenever its code opens it (open-handles.ts).
 *   Client sockets are not counted per test: fetch's and node:http's
 *   keep-alive pools keep an idle socket for ~4-5 s, and
 *   waiting that out after each test that made a request would cost seconds per
 *   test; Redis clients, the sockets that matter, are counted one by one through
 *   the kit's registry instead (open-handles.ts). A test that failed is not
 *   checked: its failure is the news, and the file's check still holds it.
 * - After each test file: every handle the file opened is closed, sockets too.
 *
 * Closing is often asynchronous (a child's exit, a socket's close event, an HTTP
 * keep-alive pool of 4 s per file), so each check waits up to `graceMs` for what
 * is left to close before it fails; a test that leaves nothing costs no wait.
 */
const graceMs = Number(process.env.AOINB_LEAK_GRACE_MS) || 6000; // short in the leak check's own test

// For leak-check.test.ts: the suite's own config loads this file.
Reflect.set(globalThis, Symbol.for('aoinb.testkit.leakCheck'), 'per test and per file');

let fileBaseline: HandleSnapshot | undefined;
let testBaseline: HandleSnapshot | undefined;

beforeAll(() => {
  fileBaseline = snapshotHandles('file');
});

// AOINB_LEAK_CHECK=file keeps only the file's check: for measuring what the per-test check costs (docs/testing.md).
const perTest = process.env.AOINB_LEAK_CHECK !== 'file';
if (perTest) trackHandles();

beforeEach(() => {
  if (perTest) testBaseline = snapshotHandles('test');
});

afterEach(async (context) => {
  const before = testBaseline;
  testBaseline = undefined;
  if (!before || context.task.result?.state === 'fail') return;
  const left = await waitForHandlesClosed(before, 'test', graceMs);
  if (left.length > 0)
    throw new Error(
      `test "${context.task.fullTestName}" left open: ${left.join(', ')} (close what the test opens, in the ` +
        'test or an afterEach; what several tests share belongs in beforeAll/afterAll)',
    );
}, graceMs + 5000);

afterAll(async () => {
  if (!fileBaseline) return;
  const left = await waitForHandlesClosed(fileBaseline, 'file', graceMs);
  if (left.length > 0)
    throw new Error(
      `this test file left handles open: ${left.join(', ')} (close every server, Redis client, ` +
        `child process and timer it starts)`,
    );
}, graceMs + 5000);
