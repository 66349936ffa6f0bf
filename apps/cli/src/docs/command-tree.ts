import type { Command, Option } from 'commander';

/** One command of the program as completion and the man page see it. */
export interface CommandNode {
  /** Words after `aoinb`, e.g. ['farm', 'up']; [] for the program itself. */
  path: string[];
  summary: string;
  description: string;
  usage: string;
  options: OptionNode[];
  subcommands: CommandNode[];
}

export interface OptionNode {
  flags: string;
  long?: string;
  short?: string;
  description: string;
  takesValue: boolean;
  choices?: string[];
  defaultValue?: string;
}

function optionNode(o: Option): OptionNode {
  const defaultValue =
    o.defaultValue === undefined || typeof o.defaultValue === 'boolean' ? undefined : String(o.defaultValue);
  return {
    flags: o.flags,
    ...(o.long ? { long: o.long } : {}),
    ...(o.short ? { short: o.short } : {}),
    description: o.description,
    takesValue: o.required || o.optional,
    ...(o.argChoices ? { choices: o.argChoices } : {}),
    ...(defaultValue !== undefined ? { defaultValue } : {}),
  };
}

/** Walks commander's definitions (hidden options and the implicit help command left out). */
export function commandTree(command: Command, path: string[] = []): CommandNode {
  const help = command.createHelp();
  const options = help.visibleOptions(command).map(optionNode);
  return {
    path,
    summary: command.summary() || command.description().split('\n')[0] || '',
    description: command.description(),
    usage: [...(path.length ? ['aoinb', ...path] : ['aoinb']), command.usage()].join(' '),
    options,
    subcommands: command.commands.filter((c) => c.name() !== 'help').map((c) => commandTree(c, [...path, c.name()])),
  };
}

/** Every node, depth first. */
export function allNodes(root: CommandNode): CommandNode[] {
  return [root, ...root.subcommands.flatMap(allNodes)];
}

/** The option words (`--arch`, `-f`) a node accepts, its ancestors' included (commander parses those anywhere). */
export function optionWords(root: CommandNode, node: CommandNode): OptionNode[] {
  const chain = allNodes(root).filter(
    (n) => n.path.length <= node.path.length && n.path.every((w, i) => node.path[i] === w),
  );
  return chain.flatMap((n) => n.options);
}
