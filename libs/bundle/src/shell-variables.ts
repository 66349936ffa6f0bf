import { AoinbError } from '@aoinb/errors';
import type { Binding, Env } from './shell-expand.ts';

/** The variables a file leaves set, read back with errors that name file, line and key. */
export class ShellVariables {
  constructor(
    readonly file: string,
    private readonly env: Env,
  ) {}

  /** True when the file (or the seed) assigns the variable, even to a value that cannot be evaluated. */
  has(name: string): boolean {
    return this.env.has(name);
  }

  /** The line of the last assignment (0 for seeded values). */
  line(name: string): number | undefined {
    return this.env.get(name)?.line;
  }

  /** Names assigned by the file itself, in first-assignment order. */
  names(): string[] {
    return [...this.env.entries()].filter(([, b]) => b.line > 0).map(([n]) => n);
  }

  /** The value as bash would print `${NAME[*]}`; throws when it cannot be evaluated statically. */
  get(name: string): string | undefined {
    const b = this.binding(name);
    if (!b) return undefined;
    return b.kind === 'array' ? b.values.join(' ') : b.value;
  }

  /** The value as a list: array elements, or a scalar split on blanks. */
  list(name: string): string[] | undefined {
    const b = this.binding(name);
    if (!b) return undefined;
    return b.kind === 'array' ? [...b.values] : b.value.split(/\s+/).filter((s) => s !== '');
  }

  /** Where a message about this variable should point: `file:line: NAME`. */
  where(name: string): string {
    const line = this.line(name);
    return line ? `${this.file}:${line}: ${name}` : `${this.file}: ${name}`;
  }

  private binding(name: string): Exclude<Binding, { kind: 'poison' }> | undefined {
    const b = this.env.get(name);
    if (b?.kind === 'poison') throw new AoinbError('BUNDLE_INVALID', `${this.where(name)}: ${b.reason}`);
    return b;
  }
}
