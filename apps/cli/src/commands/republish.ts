import { AoinbError } from '@aoinb/errors';
import type { RepublishReply, TaskStatus } from '@aoinb/farm-contract';
import type { Registration } from '../command.ts';
import { farmClient, farmOptions, printJson, type FarmOpts } from '../farm/farm-env.ts';

interface RepublishOpts extends FarmOpts {
  arch?: string;
  replace?: boolean;
}

type Outcome = RepublishReply;

/** `aoinb republish TASK [--arch A] [--replace]`: an admin's POST /task/:id/publish/:arch, per arch with debs. */
export const registerRepublish: Registration = (program, runtime) => {
  farmOptions(
    program
      .command('republish')
      .summary("admin: publish a task's debs to its branch repository again (--replace to replace a listed version)")
      .description(
        [
          "Publish the .debs of a task's last build (every arch that has debs, " +
            "or --arch) to the task's branch repository again, with an admin token (AOINB_TOKEN_FILE).",
          'A repository refuses a deb whose package, version and arch it already lists with other contents ' +
            '(REPO_CONFLICT: the build failed with that reason).',
          'With --replace the listed deb is replaced: clients that fetched the old index must run apt-get ' +
            'update again. Giving the rebuild a new version (bump REL) is the better fix.',
        ].join(' '),
      )
      .argument('<task>', 'task id')
      .option('--arch <arch>', 'only this arch')
      .option('--replace', 'replace a listed deb of the same version with other contents'),
  ).action(
    runtime.action(async (env, task: string, opts: RepublishOpts) => {
      const client = await farmClient(env, opts.url);
      const id = encodeURIComponent(task);
      const status = await client.json<TaskStatus>('GET', `/task/${id}/status`, undefined, env.signal);
      const archs = opts.arch ? [opts.arch] : status.jobs.filter((j) => j.artifacts.length > 0).map((j) => j.arch);
      if (archs.length === 0)
        throw new AoinbError('NOT_FOUND', `task ${status.id} (${status.state}) has no built debs`);
      const results: Array<Outcome & { arch: string }> = [];
      for (const arch of archs) {
        const body = { replace: opts.replace === true };
        const outcome = await client
          .json<Outcome>('POST', `/task/${id}/publish/${encodeURIComponent(arch)}`, body, env.signal)
          .catch((error: unknown) => {
            if (error instanceof AoinbError && error.code === 'REPO_CONFLICT' && !opts.replace)
              throw new AoinbError(error.code, `${error.message}; add --replace to replace the listed deb`);
            throw error;
          });
        results.push({ arch, ...outcome });
        if (!opts.json) env.stdout.write(outcomeLine(status.id, arch, outcome));
      }
      if (opts.json) printJson(env, { task: status.id, results });
      return 0;
    }),
  );
};

function outcomeLine(task: string, arch: string, o: Outcome): string {
  const parts = [
    ...o.added.map((n) => `added ${n}`),
    ...o.replaced.map((n) => `replaced ${n}`),
    ...o.unchanged.map((n) => `${n} already listed, unchanged`),
  ];
  return `task ${task} ${arch} -> ${o.branch}: ${parts.join(', ') || 'nothing to publish'}\n`;
}
