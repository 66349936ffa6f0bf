import type { Readable } from 'node:stream';

/**
 * The logs of a test farm's processes (coordinator, workers, redis-server), kept in memory so they outlive
 * the farm's temp folder: when a test fails, the suite's setup file (failed-test-logs.ts) prints their tail
 * and, with AOINB_TEST_KEEP_LOGS, copies them whole. What they hand out has the farm's secrets (its tokens)
 * and any bearer credential or URL password blanked, as it goes into CI output.
 */

/** A log keeps at most this much; beyond it the oldest half goes (a farm at info level logs far less). */
const maxChars = 8 * 1024 * 1024;
const redacted = '[redacted]';

export class ProcessLog {
  private text = '';
  private droppedChars = 0;

  constructor(
    readonly name: string,
    private readonly redact: (text: string) => string,
  ) {}

  append(chunk: string): void {
    this.text += chunk;
    if (this.text.length <= maxChars) return;
    const cut = this.text.indexOf('\n', this.text.length - maxChars / 2) + 1 || this.text.length - maxChars / 2;
    this.droppedChars += cut;
    this.text = this.text.slice(cut);
  }

  /** Everything kept, secrets blanked; a note first when the start was dropped. */
  content(): string {
    const note = this.droppedChars ? `[... ${this.droppedChars} characters dropped from the start]\n` : '';
    return note + this.redact(this.text);
  }

  /** The last `count` lines (secrets blanked), each cut at `width` characters, and how many lines there are. */
  tail(count: number, width = 400): { lines: string[]; total: number } {
    const all = this.redact(this.text).trimEnd().split('\n');
    if (all.length === 1 && all[0] === '') return { lines: [], total: 0 };
    const cutLine = (line: string): string =>
      line.length > width ? `${line.slice(0, width)}... (${line.length - width} more characters)` : line;
    return { lines: all.slice(-count).map(cutLine), total: all.length };
  }
}

export interface FarmLogsOptions {
  /** Values that must never be shown (the farm's tokens). */
  secrets?: readonly string[];
}

/** One farm's process logs, in the order the processes started (a name started again gets ` (2)`, ...). */
export class FarmLogs {
  private readonly entries: ProcessLog[] = [];
  private closedAt: number | undefined;
  private readonly secrets: string[];

  constructor(options: FarmLogsOptions = {}) {
    // Longest first, so a secret that contains another is blanked whole.
    this.secrets = (options.secrets ?? []).filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
    watchedFarms()?.add(this);
  }

  /** A new log named `name`; its chunks come from the caller (`append`). */
  add(name: string): ProcessLog {
    const same = this.entries.filter((log) => log.name === name || log.name.startsWith(`${name} (`)).length;
    const log = new ProcessLog(same ? `${name} (${same + 1})` : name, (text) => this.redact(text));
    this.entries.push(log);
    return log;
  }

  /** A new log fed by `stream` (a child process's stdout, stderr or `all`), e.g. a server a test starts itself. */
  follow(name: string, stream: Readable | null | undefined): ProcessLog {
    const log = this.add(name);
    stream?.on('data', (chunk: Buffer | string) => log.append(chunk.toString()));
    return log;
  }

  get logs(): readonly ProcessLog[] {
    return this.entries;
  }

  /** The farm stopped: its logs stay readable, for a test that fails after its afterEach stopped the farm. */
  close(): void {
    this.closedAt ??= Date.now();
  }

  /** The farm was running at some time since `time` (ms). */
  activeSince(time: number): boolean {
    return this.closedAt === undefined || this.closedAt >= time;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(redacted);
    // A bearer token, and a URL's password (`redis://user:password@host`).
    return out
      .replace(/\b(bearer\s+)[^\s"',;]+/gi, `$1${redacted}`)
      .replace(/(\b[a-z][\w+.-]*:\/\/[^\s:/@"']*:)[^\s/@"']+@/gi, `$1${redacted}@`);
  }
}

const registryKey = Symbol.for('aoinb.testkit.farmLogs');

/** The farms whose logs the setup file reports (none outside vitest, e.g. in a benchmark: nothing is kept). */
function watchedFarms(): Set<FarmLogs> | undefined {
  return Reflect.get(globalThis, registryKey) as Set<FarmLogs> | undefined;
}

/**
 * Starts keeping every farm created from now on in this process, for failed-test-logs.ts; returns the set.
 * A global, not a module's variable: the setup file and a test file may load this module apart.
 */
export function watchFarmLogs(): Set<FarmLogs> {
  const existing = watchedFarms();
  if (existing) return existing;
  const farms = new Set<FarmLogs>();
  Reflect.set(globalThis, registryKey, farms);
  return farms;
}
