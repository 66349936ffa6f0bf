import type { CommandEnv, Registration } from '../command.ts';
import { progressPrinter } from '../progress-bar.ts';

/** The buildroot and its context, loaded when a command runs (help and completion start fast without them). */
async function host(env: CommandEnv) {
  const [buildroot, { hostContext }] = await Promise.all([import('@aoinb/buildroot'), import('../host-context.ts')]);
  return { buildroot, ctx: await hostContext(env) };
}

/** `load-baseos`: install the base OS from its tarball (downloaded when absent). */
const registerLoadBaseos: Registration = (program, runtime) => {
  program
    .command('load-baseos')
    .summary('install the base OS from $work_dir/buildkit_<arch>.tar.{xz,gz,zst}')
    .description(
      'Install the base OS from $work_dir/buildkit_<arch>.tar.{xz,gz,zst}, ' +
        'downloading it from [baseos] url when absent. Needs root.',
    )
    .option('--json', 'print {tarball, downloaded} as JSON at the end')
    .action(
      runtime.action(async (env, opts: { json?: boolean }) => {
        const { buildroot, ctx } = await host(env);
        const { tarball, downloaded } = await buildroot.loadBaseos(ctx, {
          signal: env.signal,
          onProgress: progressPrinter(env.stderr),
          onLine: (line) => env.stderr.write(`${line}\n`),
        });
        if (opts.json) env.stdout.write(`${JSON.stringify({ tarball, downloaded })}\n`);
        else env.stdout.write(`base OS loaded from ${tarball}${downloaded ? ' (downloaded)' : ''}\n`);
        return 0;
      }),
    );
};

/** `update-baseos`: upgrade the base OS in place; instances are recreated. */
const registerUpdateBaseos: Registration = (program, runtime) => {
  program
    .command('update-baseos')
    .summary('apt update, full-upgrade and clean the base OS (instances are reset)')
    .description(
      'Run apt-get update, full-upgrade and clean in the base OS; branch instances are recreated on their next ' +
        'build. Needs root.',
    )
    .action(
      runtime.action(async (env) => {
        const { buildroot, ctx } = await host(env);
        await buildroot.updateBaseos(ctx, { signal: env.signal, onLine: (line) => env.stdout.write(`${line}\n`) });
        env.stdout.write('base OS updated; instances will be recreated on their next build\n');
        return 0;
      }),
    );
};

/** `cleanup TARGET`: destroy instances, the base OS or dependency layers. */
const registerCleanup: Registration = (program, runtime) => {
  program
    .command('cleanup')
    .summary('destroy every instance and the base OS, the base OS, the dependency layers, or one instance')
    .description(
      'Destroy what TARGET names: "all" (every instance, the base OS, ' +
        'the dependency layers and the apt archive cache), "baseos" (with the dependency layers made on it), ' +
        '"dep-layers" (the dependency layers only), or one branch instance (with its dependency layers) by name. ' +
        'Needs root.',
    )
    .argument('<target>', 'all, baseos, dep-layers, or the name of an instance')
    .option('--json', 'print {destroyed: [...]} as JSON')
    .action(
      runtime.action(async (env, target: string, opts: { json?: boolean }) => {
        const { buildroot, ctx } = await host(env);
        const destroyed = await buildroot.cleanup(ctx, target, env.signal);
        if (opts.json) env.stdout.write(`${JSON.stringify({ destroyed })}\n`);
        else env.stdout.write(destroyed.length > 0 ? `destroyed: ${destroyed.join(', ')}\n` : 'nothing to destroy\n');
        return 0;
      }),
    );
};

/** The seed's single-host commands besides `build`: base OS and instance housekeeping (root). */
export const registerHostCommands: Registration = (program, runtime) => {
  for (const register of [registerLoadBaseos, registerUpdateBaseos, registerCleanup]) register(program, runtime);
};
