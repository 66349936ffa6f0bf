import { InvalidArgumentError } from 'commander';
import { followLog } from '@aoinb/farm-client';
import type { Registration } from '../command.ts';
import { farmClient, farmOptions, type FarmOpts } from '../farm/farm-env.ts';
import type { TaskStatus } from '@aoinb/farm-contract';

interface LogsOpts extends FarmOpts {
  follow?: boolean;
  arch?: string;
  run?: number;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number from 1 up');
  return n;
}

export const registerLogs: Registration = (program, runtime) => {
  farmOptions(
    program
      .command('logs')
      .summary("a task's build log; -f follows it live until the build ends")
      .description(
        "Print a task's build log (its first arch unless --arch, its latest run unless --run). -f follows it " +
          'live and exits 0 only when the build succeeded. --json prints {task, arch, run, lines}, ' +
          'or with -f one JSON object per line ({"line"} ... {"end"}).',
      )
      .argument('<task>', 'task id')
      .option('-f, --follow', 'follow the log live until the build ends')
      .option('--arch <arch>', 'the build of this arch')
      .option('--run <n>', 'an earlier run (1 is the first; retries add runs)', positiveInt),
  ).action(
    runtime.action(async (env, task: string, opts: LogsOpts) => {
      const id = encodeURIComponent(task);
      const client = await farmClient(env, opts.url);
      const query = new URLSearchParams();
      if (opts.arch) query.set('arch', opts.arch);
      if (opts.run) query.set('run', String(opts.run));
      if (opts.follow) {
        const asJson = (lines: string[]) => lines.map((line) => `${JSON.stringify({ line })}\n`).join('');
        const onLines = (lines: string[]) => env.stdout.write(opts.json ? asJson(lines) : `${lines.join('\n')}\n`);
        const end = await followLog(client, id, { arch: opts.arch, run: opts.run, signal: env.signal, onLines });
        if (opts.json) env.stdout.write(`${JSON.stringify({ end })}\n`);
        else env.stderr.write(`task ${task}: ${end.state}${end.reason ? ` (${end.reason})` : ''}\n`);
        return end.state === 'succeeded' ? 0 : 1;
      }
      const response = await client.raw('GET', `/task/${id}/log${query.size ? `?${query}` : ''}`, {
        signal: env.signal,
      });
      if (!opts.json) {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) env.stdout.write(chunk);
        return 0;
      }
      const status = await client.json<TaskStatus>('GET', `/task/${id}/status`, undefined, env.signal);
      const job = status.jobs.find((j) => j.arch === (opts.arch ?? status.jobs[0]?.arch));
      const text = await response.text();
      const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text ? text.split('\n') : [];
      env.stdout.write(
        `${JSON.stringify({ task, arch: job?.arch ?? null, run: opts.run ?? job?.run ?? null, lines }, null, 2)}\n`,
      );
      return 0;
    }),
  );
};
