import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Registration } from '../command.ts';
import { buildSummary } from '../format.ts';

export function newBuildId(): string {
  return `b${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export const registerBuild: Registration = (program, runtime) => {
  program
    .command('build')
    .summary('build a bundle for a branch on this host')
    .description(
      'Build a bundle (a folder with spec and autobuild/) for BRANCH on this host, ' +
        'in a throw-away layer over the branch instance. Needs root.',
    )
    .argument('<bundle>', 'bundle folder (spec and autobuild/)')
    .argument('<branch>', 'branch: source_lists/BRANCH.list gives its repositories')
    .option('--arch <arch>', "target architecture (default: the host's)")
    .option('--build-id <id>', 'id of the build record (default: a new one)')
    .option('--json', 'print the build result as JSON instead of the log and a summary')
    .option(
      '--network',
      "give the build HTTP(S) through the host's checked proxy (never the host or the LAN); default: no network",
    )
    .action(
      runtime.action(
        async (
          env,
          bundle: string,
          branch: string,
          opts: { arch?: string; buildId?: string; json?: boolean; network?: boolean },
        ) => {
          // Loaded when the command runs, so that help and completion start fast.
          const [{ runBuild }, { hostContext }] = await Promise.all([
            import('@aoinb/buildroot'),
            import('../host-context.ts'),
          ]);
          const ctx = await hostContext(env);
          const result = await runBuild(ctx, {
            buildId: opts.buildId ?? newBuildId(),
            bundleDir: path.resolve(bundle),
            branch,
            arch: opts.arch,
            network: opts.network === true,
            signal: env.signal,
            onLogLine: opts.json ? undefined : (line) => env.stdout.write(`${line}\n`),
          });
          if (opts.json) env.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          else {
            env.stdout.write(`${buildSummary(result)}\n`);
            env.stdout.write(`log: ${result.logFile}\nrecord: ${result.recordFile}\n`);
          }
          return result.status === 'succeeded' ? 0 : 1;
        },
      ),
    );
};
