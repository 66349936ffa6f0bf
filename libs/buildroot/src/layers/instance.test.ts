import { describe, expect, it } from 'vitest';
import { refreshDue } from './instance.ts';

describe('refreshDue (instance refresh policy)', () => {
  const now = Date.now();

  it('refreshes a new instance whatever the policy', () => {
    expect(refreshDue(undefined, now, 0)).toBe(true);
    expect(refreshDue(undefined, now, 60)).toBe(true);
  });

  it('with 0 minutes refreshes before every build, but shares a refresh begun after the request', () => {
    expect(refreshDue({ startedAt: now - 1000 }, now, 0)).toBe(true);
    expect(refreshDue({ startedAt: now + 10 }, now, 0)).toBe(false);
  });

  it('with N minutes refreshes only when the last refresh is older', () => {
    expect(refreshDue({ startedAt: now - 59 * 60_000 }, now, 60)).toBe(false);
    expect(refreshDue({ startedAt: now - 61 * 60_000 }, now, 60)).toBe(true);
  });
});
