import { defaultConfigDir } from '@aoinb/config';
import { isAoinbError } from '@aoinb/errors';
import { createLogger } from '@aoinb/logging';
import type { CommandEnv } from './command.ts';
import { commands } from './commands/index.ts';

const exitUsage = 2;

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: aoinb <command> [-c CONFIG_DIR] [args]\n\ncommands:\n${lines.join('\n')}\n\nCONFIG_DIR defaults to ${defaultConfigDir}\n`;
}

/**
 * Takes `-c DIR` / `--config DIR` / `--config=DIR` out of the arguments, before or
 * after the command name (`aoinb -c DIR build ...` and `aoinb worker -c DIR` both work).
 */
function splitGlobal(argv: string[]): { configDir: string; rest: string[] } {
  let configDir = process.env.AOINB_CONFIG_DIR ?? defaultConfigDir;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '-c' || arg === '--config') {
      const value = argv[i + 1];
      if (!value) throw new Error(`${arg} needs a folder`);
      configDir = value;
      i += 1;
    } else if (arg.startsWith('--config=')) {
      configDir = arg.slice('--config='.length);
    } else {
      rest.push(arg);
    }
  }
  return { configDir, rest };
}

/** Ctrl-C and SIGTERM abort the command, which then releases mounts and exits. */
function stopSignal(): { signal: AbortSignal; exitCode: () => number | undefined } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.on(name, () => {
      if (received) return;
      received = name;
      process.stderr.write(`\naoinb: ${name} received, stopping and cleaning up...\n`);
      controller.abort(new Error(name));
    });
  }
  return { signal: controller.signal, exitCode: () => (received ? 128 + (received === 'SIGINT' ? 2 : 15) : undefined) };
}

async function main(argv: string[]): Promise<number> {
  let parsed: { configDir: string; rest: string[] };
  try {
    parsed = splitGlobal(argv);
  } catch (error) {
    process.stderr.write(`aoinb: ${(error as Error).message}\n`);
    return exitUsage;
  }
  const [name, ...args] = parsed.rest;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(helpText());
    return name ? 0 : exitUsage;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`aoinb: unknown command ${JSON.stringify(name)}\n\n${helpText()}`);
    return exitUsage;
  }
  const stop = stopSignal();
  const env: CommandEnv = { configDir: parsed.configDir, logger: createLogger(), signal: stop.signal, stdout: process.stdout, stderr: process.stderr };
  try {
    const status = await command.run(args, env);
    return stop.exitCode() ?? status;
  } catch (error) {
    if (stop.exitCode()) return stop.exitCode()!;
    const message = isAoinbError(error) ? `${error.message} [${error.code}]` : (error as Error).stack ?? String(error);
    process.stderr.write(`aoinb: ${message}\n`);
    return isAoinbError(error) && ['USAGE', 'CONFIG_INVALID', 'CONFIG_NOT_FOUND'].includes(error.code) ? exitUsage : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
