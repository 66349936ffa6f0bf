import path from 'node:path';
import type { Registration } from '../command.ts';
import type { Downloaded } from '../farm/download-artifacts.ts';
import { farmClient, farmOptions, printJson, type FarmOpts } from '../farm/farm-env.ts';
import type { TaskStatus } from '@aoinb/farm-contract';
import { formatBytes } from '../format.ts';
import { progressPrinter } from '../progress-bar.ts';

interface DownloadOpts extends FarmOpts {
  arch?: string;
  dest: string;
}

export const registerDownload: Registration = (program, runtime) => {
  farmOptions(
    program
      .command('download')
      .summary("download a task's .debs, checking each one's SHA-256")
      .description(
        'Download the .debs a task built (every arch, or --arch) into --dest. Each file is checked against the ' +
          'size and SHA-256 the farm recorded; one that does not match is removed and the command fails. Progress ' +
          'is shown on a terminal.',
      )
      .argument('<task>', 'task id')
      .option('--arch <arch>', 'only the artifacts of this arch')
      .option('--dest <dir>', 'folder to write the files to', '.'),
  ).action(
    runtime.action(async (env, task: string, opts: DownloadOpts) => {
      const client = await farmClient(env, opts.url);
      const status = await client.json<TaskStatus>(
        'GET',
        `/task/${encodeURIComponent(task)}/status`,
        undefined,
        env.signal,
      );
      const { artifactsOf, downloadArtifact } = await import('../farm/download-artifacts.ts');
      const artifacts = artifactsOf(status, opts.arch);
      const dest = path.resolve(opts.dest);
      const done: Downloaded[] = [];
      for (const artifact of artifacts) {
        const show = !opts.json && env.stderr.isTTY;
        if (show) env.stderr.write(`${artifact.name}\n`);
        done.push(
          await downloadArtifact(client, status.id, artifact, dest, {
            signal: env.signal,
            onProgress: show ? progressPrinter(env.stderr) : undefined,
          }),
        );
        if (!opts.json)
          env.stdout.write(
            `${path.join(opts.dest, artifact.name)}  ${formatBytes(artifact.size)}  sha256 ${env.paint.green('ok')}\n`,
          );
      }
      if (opts.json) printJson(env, { task: status.id, state: status.state, files: done });
      else if (artifacts.length === 0)
        env.stderr.write(
          `task ${status.id} (${status.state}) has no artifacts${opts.arch ? ` for ${opts.arch}` : ''}\n`,
        );
      return 0;
    }),
  );
};
