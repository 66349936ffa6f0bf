import type { Registration } from '../command.ts';
import { farmClient, farmOptions, printJson, type FarmOpts } from '../farm/farm-env.ts';
import { paintState } from '../colours.ts';

/** `cancel`, `retry` and `delete`: one request on a task, the outcome printed. */
export const registerTaskActions: Registration = (program, runtime) => {
  const actions = [
    {
      name: 'cancel',
      summary: 'cancel a task: queued jobs at once, running builds within seconds',
      method: 'POST',
      suffix: '/cancel',
    },
    { name: 'retry', summary: 'run the failed or cancelled archs of a task again', method: 'POST', suffix: '/retry' },
    {
      name: 'delete',
      summary: 'delete a task never built (state created), or a finished one (admin), with its bundle, logs and debs',
      method: 'DELETE',
      suffix: '',
    },
  ] as const;
  for (const a of actions) {
    farmOptions(program.command(a.name).summary(a.summary).argument('<task>', 'task id')).action(
      runtime.action(async (env, task: string, opts: FarmOpts) => {
        const client = await farmClient(env, opts.url);
        const body = await client.json<{ id: string; state: string }>(
          a.method,
          `/task/${encodeURIComponent(task)}${a.suffix}`,
          undefined,
          env.signal,
        );
        if (opts.json) printJson(env, body);
        else env.stdout.write(`task ${body.id}: ${paintState(env.paint, body.state)}\n`);
        return 0;
      }),
    );
  }
};
