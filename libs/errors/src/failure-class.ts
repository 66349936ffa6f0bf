import type { FailureClass } from '@aoinb/farm-contract/states';

// The classes are part of the wire protocol (results, task status): declared in the contract.
export { failureClasses, type FailureClass } from '@aoinb/farm-contract/states';

const localErrnoClasses: Record<string, FailureClass> = {
  ENOSPC: 'disk-full',
  EDQUOT: 'disk-full',
  ENOMEM: 'out-of-memory',
};

/**
 * Error codes of this host's own file system and kernel (as opposed to the
 * network's): retrying them as if the coordinator were unreachable only hides them.
 */
const localErrnos = new Set(['ENOSPC', 'EDQUOT', 'ENOMEM', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE']);

/** The errno code of an error or of any error in its `cause` chain. */
export function errnoOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether the error is a failure of this host's disk, memory or file system (never worth a network retry). */
export function isLocalHostError(error: unknown): boolean {
  const code = errnoOf(error);
  return code !== undefined && localErrnos.has(code);
}

/** The class of a thrown error: ENOSPC is `disk-full`, ENOMEM `out-of-memory`, anything else `fallback`. */
export function failureClassOfError(error: unknown, fallback: FailureClass = 'infrastructure'): FailureClass {
  const code = errnoOf(error);
  return (code && localErrnoClasses[code]) || (/no space left on device/i.test(String(error)) ? 'disk-full' : fallback);
}
