import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

// True in the production build (scripts/build-apps.ts defines it), absent under tsx.
declare const AOINB_COMPILED: boolean | undefined;
const compiled = typeof AOINB_COMPILED === 'boolean' && AOINB_COMPILED;

/**
 * The coordinator and the worker are apps of their own; the CLI starts them as
 * processes (never imports them), the way the CLI itself runs: built, their dist/main.js;
 * from source, their src/main.ts through tsx.
 */
export function appMain(app: 'coordinator' | 'worker'): string {
  return fileURLToPath(import.meta.resolve(compiled ? `@aoinb/${app}/dist/main` : `@aoinb/${app}/main`));
}

function nodeArgs(): string[] {
  return compiled ? ['--enable-source-maps'] : ['--import', import.meta.resolve('tsx')];
}

export function startApp(
  app: 'coordinator' | 'worker',
  args: string[],
  options: { env?: Record<string, string>; stdout?: 'inherit' | 'pipe'; stderr?: 'inherit' | 'pipe' } = {},
): ResultPromise<{
  reject: false;
  stdin: 'ignore';
  stdout: 'inherit' | 'pipe';
  stderr: 'inherit' | 'pipe';
  buffer: false;
}> {
  return execa(process.execPath, [...nodeArgs(), appMain(app), ...args], {
    reject: false,
    stdin: 'ignore',
    stdout: options.stdout ?? 'inherit',
    stderr: options.stderr ?? 'inherit',
    buffer: false,
    env: options.env ?? {},
    extendEnv: true,
  });
}

/** Asks a child to stop (SIGTERM), then kills it if it has not gone within `graceMs`. */
export async function stopChild(child: ResultPromise, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.catch(() => undefined);
  clearTimeout(timer);
}
