/**
 * A small schema reader for TOML tables. Each read names its key path, so every
 * problem in a file is reported with where it is, and all of them at once.
 */
export type TomlValue = string | number | bigint | boolean | Date | TomlValue[] | { [key: string]: TomlValue };
export type TomlTable = { [key: string]: TomlValue };

export interface Problem {
  path: string;
  message: string;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (value !== null && typeof value === 'object') return 'a table';
  return `${typeof value} ${JSON.stringify(typeof value === 'bigint' ? Number(value) : value)}`;
}

export class TableReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly table: TomlTable,
    private readonly prefix: string,
    readonly problems: Problem[],
  ) {}

  private path(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  private take(key: string): TomlValue | undefined {
    this.seen.add(key);
    return this.table[key];
  }

  /** Whether the table sets `key` (reading it is still up to the caller). */
  has(key: string): boolean {
    return this.table[key] !== undefined;
  }

  problem(key: string, message: string): void {
    this.problems.push({ path: this.path(key), message });
  }

  string(key: string, options: { default?: string; pattern?: RegExp; hint?: string } = {}): string {
    const value = this.take(key);
    if (value === undefined) {
      if (options.default !== undefined) return options.default;
      this.problem(key, 'is required');
      return '';
    }
    if (typeof value !== 'string') {
      this.problem(key, `must be a string, got ${describe(value)}`);
      return options.default ?? '';
    }
    if (options.pattern && !options.pattern.test(value)) {
      this.problem(key, `${JSON.stringify(value)} is not valid${options.hint ? `: ${options.hint}` : ''}`);
    }
    return value;
  }

  optionalString(key: string, options: { pattern?: RegExp; hint?: string } = {}): string | undefined {
    if (this.table[key] === undefined) {
      this.seen.add(key);
      return undefined;
    }
    return this.string(key, options);
  }

  oneOf<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const value = this.take(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.problem(key, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${describe(value)}`);
      return fallback;
    }
    return value as T;
  }

  integer(key: string, options: { default: number; min?: number; max?: number }): number {
    const value = this.take(key);
    if (value === undefined) return options.default;
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      this.problem(key, `must be an integer, got ${describe(value)}`);
      return options.default;
    }
    if (options.min !== undefined && n < options.min) this.problem(key, `must be at least ${options.min}, got ${n}`);
    if (options.max !== undefined && n > options.max) this.problem(key, `must be at most ${options.max}, got ${n}`);
    return n;
  }

  number(key: string, options: { default: number; min?: number }): number {
    const value = this.take(key);
    if (value === undefined) return options.default;
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n !== 'number' || Number.isNaN(n)) {
      this.problem(key, `must be a number, got ${describe(value)}`);
      return options.default;
    }
    if (options.min !== undefined && n < options.min) this.problem(key, `must be at least ${options.min}, got ${n}`);
    return n;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.take(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.problem(key, `must be true or false, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  stringArray(key: string, fallback: string[]): string[] {
    const value = this.take(key);
    if (value === undefined) return fallback;
    if (!Array.isArray(value)) {
      this.problem(key, `must be an array of strings, got ${describe(value)}`);
      return fallback;
    }
    value.forEach((item, i) => {
      if (typeof item !== 'string')
        this.problems.push({ path: `${this.path(key)}[${i}]`, message: `must be a string, got ${describe(item)}` });
    });
    return value.filter((item): item is string => typeof item === 'string');
  }

  /** A sub-table; absent reads as empty so its defaults apply. */
  section(key: string): TableReader {
    const value = this.take(key);
    if (value !== undefined && (typeof value !== 'object' || Array.isArray(value) || value instanceof Date)) {
      this.problem(key, `must be a table, got ${describe(value)}`);
      return new TableReader({}, this.path(key), this.problems);
    }
    return new TableReader(value ?? {}, this.path(key), this.problems);
  }

  /** An array of tables (`[[key]]`). */
  tables(key: string): TableReader[] {
    const value = this.take(key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.problem(key, `must be an array of tables ([[${this.path(key)}]]), got ${describe(value)}`);
      return [];
    }
    return value.flatMap((item, i) => {
      const path = `${this.path(key)}[${i}]`;
      if (typeof item !== 'object' || Array.isArray(item) || item instanceof Date) {
        this.problems.push({ path, message: `must be a table, got ${describe(item)}` });
        return [];
      }
      return [new TableReader(item, path, this.problems)];
    });
  }

  /** Reports keys nobody read: almost always a typo. Call after all reads. */
  rejectUnknown(): void {
    for (const key of Object.keys(this.table)) {
      if (!this.seen.has(key)) this.problem(key, 'is not a known key');
    }
  }
}
