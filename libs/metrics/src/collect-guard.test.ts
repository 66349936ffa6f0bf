import { describe, expect, it } from 'vitest';
import { createLogger } from '@aoinb/logging';
import { createCollectGuard, sharedRefresh } from './collect-guard.ts';
import { DeadlineExceeded, withDeadline } from './deadline.ts';
import { createMetricsRegistry } from './registry.ts';

describe('metrics helpers', () => {
  it('withDeadline rejects late work and swallows its late failure', async () => {
    await expect(withDeadline(Promise.resolve(3), 50, 'x')).resolves.toBe(3);
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 80));
    await expect(withDeadline(late, 20, 'slow work')).rejects.toBeInstanceOf(DeadlineExceeded);
    await new Promise((r) => setTimeout(r, 100));
  });

  it('a collect guard counts failures and timeouts instead of failing the scrape', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    const guard = createCollectGuard({
      registry,
      prefix: 'test',
      logger: createLogger({ level: 'silent' }),
      timeoutMs: 20,
    });
    await guard.run('broken', async () => {
      throw new Error('down');
    });
    await guard.run('slow', () => new Promise((r) => setTimeout(r, 100)));
    await guard.run('fine', async () => undefined);
    const text = await registry.metrics();
    expect(text).toContain('test_metrics_collect_errors_total{collector="broken"} 1');
    expect(text).toContain('test_metrics_collect_errors_total{collector="slow"} 1');
    expect(text).not.toContain('collector="fine"');
  });

  it('shares a refresh between calls while it is in flight, then refreshes again', async () => {
    let calls = 0;
    const refresh = sharedRefresh(async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 10));
      return calls;
    });
    expect(await Promise.all([refresh(), refresh(), refresh()])).toEqual([1, 1, 1]);
    expect(await refresh()).toBe(2);
  });

  it('keeps process metrics that promtool accepts', async () => {
    const text = await createMetricsRegistry().metrics();
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).not.toContain('nodejs_active_handles_total');
  });
});
