import { AoinbError, isAoinbError } from '@aoinb/errors';
import type { Palette } from './colours.ts';

/**
 * `error: unknown command 'sumbit'\n(Did you mean submit?)` ->
 * `aoinb: unknown command 'sumbit' (did you mean submit?) [USAGE]`
 */
export function usageLine(commanderText: string, p: Palette): string {
  const text = commanderText
    .trim()
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean/, ' (did you mean')
    .replace(/\s*\n\s*/g, ' ');
  return `${p.red('aoinb:')} ${text} [USAGE]`;
}

/**
 * The one line a user sees for an error: the message and its code. Errors we did
 * not foresee say INTERNAL; `AOINB_DEBUG=1` adds the stack trace.
 */
export function errorLines(error: unknown, p: Palette, debug: boolean): string {
  const known = isAoinbError(error) ? error : undefined;
  const message = known ? known.message : error instanceof Error ? error.message : String(error);
  const code = known ? known.code : (systemCode(error) ?? 'INTERNAL');
  const trace = debug && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  const hint = !known && !debug ? ' (set AOINB_DEBUG=1 for a stack trace)' : '';
  return `${p.red('aoinb:')} ${message} [${code}]${hint}${trace}\n`;
}

function systemCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

export function exitStatusFor(error: unknown): number {
  return error instanceof AoinbError && ['USAGE', 'CONFIG_INVALID', 'CONFIG_NOT_FOUND'].includes(error.code) ? 2 : 1;
}
