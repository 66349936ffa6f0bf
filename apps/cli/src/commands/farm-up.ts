import { Option } from 'commander';
import type { Registration } from '../command.ts';
import type { LogFormat } from '../farm/log-lines.ts';

export const registerFarm: Registration = (program, runtime) => {
  const farm = program.command('farm').summary('run a whole farm on this host (farm up)');
  farm
    .command('up')
    .summary('run Redis (embedded unless [redis] url is set), the coordinator and a local worker')
    .description(
      'Run the farm on this host until Ctrl-C: Redis (embedded unless [redis] url is set), ' +
        'the coordinator and one worker (root). Their logs are human-readable lines on a terminal and JSON lines ' +
        'elsewhere.',
    )
    .addOption(
      new Option('--log-format <format>', 'log lines of the coordinator and worker')
        .choices(['auto', 'pretty', 'json'])
        .default('auto'),
    )
    .action(
      runtime.action(async (env, opts: { logFormat: 'auto' | LogFormat }) => {
        // The farm's code (execa, pino-pretty, buildroot) loads only when it runs.
        const [{ farmUp }, { resolveLogFormat }] = await Promise.all([
          import('../farm/farm-up-run.ts'),
          import('../farm/log-lines.ts'),
        ]);
        return farmUp(env, resolveLogFormat(opts.logFormat, env.stderr));
      }),
    );
};
