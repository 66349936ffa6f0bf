import { afterAll, beforeAll } from 'vitest';

/**
 * vitest setupFiles entry (see vitest.config.ts): after each test file, every
 * handle the file opened must be closed again: sockets (Redis clients, HTTP
 * servers and clients), child processes (redis-server, agents), timers
 * (loops). Compared by kind with `process.getActiveResourcesInfo()` against
 * the count before the file's own hooks ran. Closing is often asynchronous
 * (a socket's close event, an HTTP client's keep-alive of 4 s), so the check
 * waits up to `graceMs` for the counts to come back down before it fails.
 */
const graceMs = 6000;
/** Transient or vitest's own: file system requests in flight, the terminal, immediates. */
const ignored = new Set(['FSReqCallback', 'FSReqPromise', 'TTYWrap', 'Immediate', 'GetAddrInfoReqWrap']);

function counts(): Map<string, number> {
  const out = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (!ignored.has(kind)) out.set(kind, (out.get(kind) ?? 0) + 1);
  return out;
}

/** What is open now beyond `before`, e.g. `TCPSocketWrap +2`. */
export function leaksSince(before: Map<string, number>): string[] {
  return [...counts()]
    .filter(([kind, n]) => n > (before.get(kind) ?? 0))
    .map(([kind, n]) => `${kind} +${n - (before.get(kind) ?? 0)}`);
}

export async function waitForNoLeaks(before: Map<string, number>, ms = graceMs): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = leaksSince(before);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = leaksSince(before);
  }
  return left;
}

let baseline = new Map<string, number>();
beforeAll(() => {
  baseline = counts();
});
afterAll(async () => {
  const left = await waitForNoLeaks(baseline);
  if (left.length > 0)
    throw new Error(
      `this test file left handles open: ${left.join(', ')} (close every server, Redis client, ` +
        `child process and timer it starts)`,
    );
}, graceMs + 5000);
