import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

/**
 * The coordinator and the worker are apps of their own; the CLI starts them as
 * processes (never imports them), through tsx like the CLI itself.
 */
export function appMain(app: 'coordinator' | 'worker'): string {
  return fileURLToPath(import.meta.resolve(`@aoinb/${app}/main`));
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
  return execa(process.execPath, ['--import', import.meta.resolve('tsx'), appMain(app), ...args], {
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
