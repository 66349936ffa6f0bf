import type { NotifyTestReply } from '@aoinb/farm-contract';
import type { Registration } from '../command.ts';
import { farmClient, farmOptions, printJson, type FarmOpts } from '../farm/farm-env.ts';

/**
 * `aoinb notify test`: the coordinator sends a test message to
 * its [[notify.webhook]] receivers (it holds their secrets).
 */
export const registerNotify: Registration = (program, runtime) => {
  const notify = program
    .command('notify')
    .summary("notifications: send a test message to the coordinator's webhooks (notify test)");
  farmOptions(
    notify
      .command('test')
      .summary("send a test message to the coordinator's webhooks and show what each answered")
      .description(
        'The coordinator sends a test message to each [[notify.webhook]] (or only --webhook NAME); ' +
          'exits 0 only when every one was delivered.',
      )
      .option('--webhook <name>', 'only this webhook'),
  ).action(
    runtime.action(async (env, opts: FarmOpts & { webhook?: string }) => {
      const client = await farmClient(env, opts.url);
      const body = await client.json<NotifyTestReply>(
        'POST',
        '/notify/test',
        opts.webhook ? { webhook: opts.webhook } : {},
        env.signal,
      );
      if (opts.json) printJson(env, body);
      else {
        for (const r of body.results) {
          const outcome = r.ok
            ? env.paint.green(`delivered (HTTP ${r.status})`)
            : env.paint.red(`NOT delivered: ${r.error ?? `HTTP ${r.status}`}`);
          env.stdout.write(`${r.webhook} (${r.format}): ${outcome}\n`);
        }
      }
      return body.results.every((r) => r.ok) ? 0 : 1;
    }),
  );
};
