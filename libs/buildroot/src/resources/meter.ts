/** Reads CPU and memory of one build's process tree. */
export interface Meter {
  method: 'cgroup-v2' | 'cgroup-v1' | 'procfs';
  /** `cgroup.procs` files the container's first process joins before it execs. */
  enterFiles: string[];
  /** Tells a procfs meter which process is the root of the tree. */
  setRootPid(pid: number): void;
  read(): Promise<{ cpuSeconds: number; memoryBytes: number; peakMemoryBytes: number }>;
  /** The kernel limit the build ran into (`memory limit of 512 MiB`), if any; kernel-enforced meters only. */
  limitHit?(): Promise<string | undefined>;
  dispose(): Promise<void>;
}
