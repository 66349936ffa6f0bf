import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runBuild } from '@aoinb/buildroot';
import { AoinbError } from '@aoinb/errors';
import type { Command } from '../command.ts';
import { buildSummary } from '../format.ts';
import { hostContext } from '../host-context.ts';

export function newBuildId(): string {
  return `b${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export const buildCommand: Command = {
  name: 'build',
  usage: 'aoinb build BUNDLE BRANCH [--arch ARCH] [--build-id ID] [--json]',
  summary: 'build a bundle (folder with spec and autobuild/) for a branch on this host',
  async run(args, env) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { arch: { type: 'string' }, 'build-id': { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    if (positionals.length !== 2) throw new AoinbError('USAGE', `usage: ${this.usage}`);
    const [bundle, branch] = positionals as [string, string];
    const ctx = await hostContext(env);
    const result = await runBuild(ctx, {
      buildId: values['build-id'] ?? newBuildId(),
      bundleDir: path.resolve(bundle),
      branch,
      arch: values.arch,
      signal: env.signal,
      onLogLine: values.json ? undefined : (line) => env.stdout.write(`${line}\n`),
    });
    if (values.json) env.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      env.stdout.write(`${buildSummary(result)}\n`);
      env.stdout.write(`log: ${result.logFile}\nrecord: ${result.recordFile}\n`);
    }
    return result.status === 'succeeded' ? 0 : 1;
  },
};
