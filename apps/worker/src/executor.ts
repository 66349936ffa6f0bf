import { recoverStaleState, runBuild, workLayout, type BuildRequest, type BuildResult } from '@aoinb/buildroot';
import type { AoinbConfig } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';

/** What the coordinator learnt from the bundle; the fake executor names its .deb from it. */
export interface PackageHints {
  name: string;
  /** Debian version, `[EPOCH:]VER-REL`. */
  version: string;
  noarch: boolean;
}

/**
 * What runs one build on this host. The real one is the single-host pipeline
 * (OverlayFS + systemd-nspawn); tests and benchmarks use the fake one. Either
 * way a failed build is a result, and aborting `request.signal` ends the build
 * (container killed, mounts released) with status `cancelled`.
 */
export interface Executor {
  readonly name: string;
  /** Once at agent start: clean up what a killed agent left (containers, mounts). */
  prepare?(): Promise<void>;
  run(request: BuildRequest, pkg: PackageHints): Promise<BuildResult>;
}

/** The real pipeline: `runBuild` from @aoinb/buildroot (it reads the bundle itself). */
export function realExecutor(config: AoinbConfig, logger: Logger): Executor {
  return {
    name: 'nspawn',
    prepare: async () => {
      const { workspaces, mounts } = await recoverStaleState(workLayout(config.workDir), logger);
      if (workspaces.length > 0 || mounts.length > 0)
        logger.warn({ workspaces, mounts }, 'cleaned up after a previous agent');
    },
    run: (request) => runBuild({ config, logger }, request),
  };
}
