import { describe, expect, it } from 'vitest';
import { AoinbError } from './aoinb-error.ts';
import { errnoOf, failureClassOfError, isLocalHostError } from './failure-class.ts';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: oops`), { code });

describe('failure classes', () => {
  it('names a full disk and a lack of memory wherever the errno sits in the cause chain', () => {
    expect(failureClassOfError(errno('ENOSPC'))).toBe('disk-full');
    expect(failureClassOfError(errno('EDQUOT'))).toBe('disk-full');
    expect(failureClassOfError(errno('ENOMEM'))).toBe('out-of-memory');
    const wrapped = new AoinbError('INTERNAL', 'writing the bundle failed', { cause: errno('ENOSPC') });
    expect(errnoOf(wrapped)).toBe('ENOSPC');
    expect(failureClassOfError(wrapped)).toBe('disk-full');
    expect(failureClassOfError(new Error('tar: write error: No space left on device'))).toBe('disk-full');
  });

  it('falls back to the given class, and tells local errors from network ones', () => {
    expect(failureClassOfError(new Error('boom'))).toBe('infrastructure');
    expect(failureClassOfError(new Error('boom'), 'build')).toBe('build');
    expect(isLocalHostError(errno('ENOSPC'))).toBe(true);
    expect(isLocalHostError(errno('EIO'))).toBe(true);
    const network = new TypeError('fetch failed', { cause: errno('ECONNREFUSED') });
    expect(isLocalHostError(network)).toBe(false);
    expect(isLocalHostError(new Error('HTTP 503'))).toBe(false);
  });
});
