import { allNodes, type CommandNode } from './command-tree.ts';

/** Escapes text for roff: backslashes, and a leading dot or quote that would read as a request. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

function optionItems(node: CommandNode): string[] {
  return node.options.flatMap((o) => {
    const extra = [
      o.choices ? `one of: ${o.choices.join(', ')}` : '',
      o.defaultValue !== undefined ? `default: ${o.defaultValue}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    return ['.TP', `.B ${roff(o.flags)}`, roff(extra ? `${o.description} (${extra})` : o.description)];
  });
}

function commandSection(node: CommandNode): string[] {
  return [
    `.SS ${roff(['aoinb', ...node.path].join(' '))}`,
    '.PP',
    `.B ${roff(node.usage)}`,
    '.PP',
    ...roff(node.description || node.summary)
      .split('\n')
      .flatMap((para, i) => (i === 0 ? [para] : ['.PP', para])),
    ...(node.options.length > 0 ? ['.RS', ...optionItems(node), '.RE'] : []),
  ];
}

/**
 * aoinb(1), in man(7) roff, generated from the same commander definitions as
 * `--help` and the completion scripts (`aoinb man`).
 */
export function manPage(root: CommandNode, version: string, date: string): string {
  const commands = allNodes(root).filter((n) => n.path.length > 0);
  return [
    `.TH AOINB 1 "${date}" "aoinb ${version}" "User Commands"`,
    '.SH NAME',
    'aoinb \\- build AOSC OS packages on this host or over a build farm',
    '.SH SYNOPSIS',
    '.B aoinb',
    '[\\fB\\-c\\fR \\fICONFIG_DIR\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]',
    '.SH DESCRIPTION',
    roff(root.description),
    '.PP',
    'Every command takes \\fB\\-h\\fR/\\fB\\-\\-help\\fR (also \\fBaoinb help \\fICOMMAND\\fR); ' +
      'a command asked for help does nothing else.',
    '.SH GLOBAL OPTIONS',
    ...optionItems(root),
    '.SH COMMANDS',
    ...commands.flatMap(commandSection),
    '.SH ENVIRONMENT',
    '.TP',
    '.B AOINB_CONFIG_DIR',
    'configuration folder when \\fB\\-c\\fR is not given',
    '.TP',
    '.B AOINB_URL',
    "coordinator URL of the farm commands (else the config's [coordinator] public_url)",
    '.TP',
    '.B AOINB_TOKEN, AOINB_TOKEN_FILE',
    'API token of the farm commands, or a file holding it',
    '.TP',
    '.B NO_COLOR',
    'when set (not empty), no colour on a terminal either',
    '.TP',
    '.B AOINB_DEBUG',
    'set to 1 for a stack trace with an error',
    '.SH EXIT STATUS',
    '0 on success; 1 when a build or task failed or was cancelled, or on an error; ' +
      '2 for a usage or configuration error; 130 after Ctrl-C.',
    '.SH SEE ALSO',
    'The docs/ folder of aoinb, docs/cli.md in particular.',
    '',
  ].join('\n');
}
