import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

/**
 * Preloaded into a coordinator under test (`--import`, see crash-points.ts): SIGKILLs the process at one
 * exact step of its file-system work, as an OOM kill or a power cut would, the way crash-consistency tests
 * cut at each file operation. The cut is armed by `crash-at.json` in the coordinator's config folder (its
 * `-c` argument), read at the next watched call and consumed, so the restart that follows runs unarmed. Just
 * before the kill the hook writes `crashed-at.json` there: the test's proof that the cut was where it meant.
 */
export interface CrashAt {
  /** The fs/promises call to cut at. */
  op: WatchedOp;
  /** Before the call runs, or after it completed (before its caller goes on). */
  when: 'before' | 'after';
  /** A regular expression over the path the call writes (a rename's or link's new path). */
  target: string;
}

const watched = ['rename', 'writeFile', 'appendFile', 'link', 'copyFile'] as const;
type WatchedOp = (typeof watched)[number];
type FsCall = (...args: unknown[]) => Promise<unknown>;

/** The path a call writes: the destination of rename, link and copyFile, else its first argument. */
function writtenPath(op: WatchedOp, args: unknown[]): string {
  const value = op === 'rename' || op === 'link' || op === 'copyFile' ? args[1] : args[0];
  return typeof value === 'string' ? value : value instanceof URL ? value.pathname : '';
}

function configDir(): string | undefined {
  const i = process.argv.indexOf('-c');
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** The armed cut, taken from `crash-at.json` the first time one is there (the file is then removed). */
function takeSpec(dir: string): { spec: CrashAt; pattern: RegExp } | undefined {
  const file = path.join(dir, 'crash-at.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  rmSync(file, { force: true });
  const spec = JSON.parse(text) as CrashAt;
  return { spec, pattern: new RegExp(spec.target) };
}

function watch(dir: string): void {
  const fsp = createRequire(import.meta.url)('node:fs/promises') as Record<WatchedOp, FsCall>;
  let armed: ReturnType<typeof takeSpec>;
  const cutIf = (op: WatchedOp, when: CrashAt['when'], args: unknown[]): void => {
    armed ??= takeSpec(dir);
    if (!armed || armed.spec.op !== op || armed.spec.when !== when) return;
    const written = writtenPath(op, args);
    if (!armed.pattern.test(written)) return;
    writeFileSync(path.join(dir, 'crashed-at.json'), JSON.stringify({ ...armed.spec, path: written }));
    process.kill(process.pid, 'SIGKILL');
  };
  for (const op of watched) {
    const original = fsp[op];
    fsp[op] = async (...args: unknown[]): Promise<unknown> => {
      cutIf(op, 'before', args);
      const result = await original(...args);
      cutIf(op, 'after', args);
      return result;
    };
  }
  // The modules' `import { rename } from 'node:fs/promises'` bindings follow the CommonJS object.
  syncBuiltinESMExports();
}

const dir = configDir();
if (dir) watch(dir);
