import { describe, expect, it } from 'vitest';
import { resourceView } from './resource-view.ts';

describe('resourceView', () => {
  it("turns a build record's resources into snake_case peaks, cores and a chartable series", () => {
    const view = resourceView({
      cpuSeconds: 12,
      peakMemoryBytes: 900,
      peakDiskBytes: 5000,
      method: 'cgroup-v2',
      samples: [
        { atMs: 2000, cpuSeconds: 2, memoryBytes: 300, diskBytes: 100 },
        { atMs: 4000, cpuSeconds: 8, memoryBytes: 900, diskBytes: 4000 },
        { atMs: 6000, cpuSeconds: 12, memoryBytes: 600, diskBytes: 5000 },
      ],
    });
    expect(view).toEqual({
      cpu_seconds: 12,
      avg_cpu_cores: 2,
      peak_cpu_cores: 3,
      peak_memory_bytes: 900,
      peak_disk_bytes: 5000,
      method: 'cgroup-v2',
      samples: [
        { at_ms: 2000, cpu_seconds: 2, cpu_cores: 1, memory_bytes: 300, disk_bytes: 100 },
        { at_ms: 4000, cpu_seconds: 8, cpu_cores: 3, memory_bytes: 900, disk_bytes: 4000 },
        { at_ms: 6000, cpu_seconds: 12, cpu_cores: 2, memory_bytes: 600, disk_bytes: 5000 },
      ],
    });
  });

  it('answers null without resources and no cores without samples', () => {
    expect(resourceView(undefined)).toBeNull();
    expect(
      resourceView({ cpuSeconds: 0, peakMemoryBytes: 0, peakDiskBytes: 0, method: 'procfs', samples: [] }),
    ).toMatchObject({ avg_cpu_cores: null, peak_cpu_cores: null, samples: [] });
  });
});
