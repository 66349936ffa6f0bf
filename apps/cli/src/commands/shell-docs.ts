import { Argument, type Command } from 'commander';
import type { Registration } from '../command.ts';
import { commandTree } from '../docs/command-tree.ts';
import { bashCompletion, fishCompletion, zshCompletion } from '../docs/completion-scripts.ts';
import { manPage } from '../docs/man-page.ts';
import { cliVersion } from '../version.ts';

function rootOf(command: Command): Command {
  let at = command;
  while (at.parent) at = at.parent;
  return at;
}

const generators = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

/** `completion SHELL` and `man`: scripts and the man page, generated from the program's own definitions. */
export const registerShellDocs: Registration = (program, runtime) => {
  program
    .command('completion')
    .summary('print the shell completion script for bash, zsh or fish')
    .description(
      'Print a completion script: source <(aoinb completion bash) in ~/.bashrc; ' +
        'source <(aoinb completion zsh) after compinit in ~/.zshrc; aoinb completion fish > ' +
        '~/.config/fish/completions/aoinb.fish.',
    )
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .action(
      runtime.action(async (env, shell: keyof typeof generators, _opts: unknown, command: Command) => {
        env.stdout.write(generators[shell](commandTree(rootOf(command))));
        return 0;
      }),
    );
  program
    .command('man')
    .summary('print the aoinb(1) man page (roff); view it with: aoinb man | man -l -')
    .action(
      runtime.action(async (env, _opts: unknown, command: Command) => {
        const date = process.env.SOURCE_DATE_EPOCH
          ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000)
          : new Date();
        env.stdout.write(manPage(commandTree(rootOf(command)), cliVersion, date.toISOString().slice(0, 10)));
        return 0;
      }),
    );
};
