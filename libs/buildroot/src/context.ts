import type { AoinbConfig } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import { workLayout, type WorkLayout } from './work-layout.ts';

/** What every buildroot operation is handed: no globals. */
export interface BuildrootContext {
  config: AoinbConfig;
  logger: Logger;
}

export function layoutOf(ctx: BuildrootContext): WorkLayout {
  return workLayout(ctx.config.workDir);
}
