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

  it('counts every errno of this host as local, and only those', () => {
    for (const code of ['ENOSPC', 'EDQUOT', 'ENOMEM', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE'])
      expect(isLocalHostError(errno(code)), code).toBe(true);
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE'])
      expect(isLocalHostError(errno(code)), code).toBe(false);
    expect(failureClassOfError(errno('EIO'))).toBe('infrastructure');
    expect(failureClassOfError(errno('EACCES'), 'build')).toBe('build');
  });

  it('reads only whole errno codes, and looks five errors deep at most', () => {
    // Node's own codes (ERR_...) are not errnos: the errno is further down the chain.
    const inner = Object.assign(new Error('stream closed'), { code: 'ERR_EIO', cause: errno('ENOMEM') });
    expect(errnoOf(inner)).toBe('ENOMEM');
    const node = Object.assign(new Error('closed'), { code: 'ERR_STREAM_PREMATURE_CLOSE', cause: errno('ENOSPC') });
    expect(errnoOf(node)).toBe('ENOSPC');
    expect(errnoOf(Object.assign(new Error('x'), { code: 42 }))).toBeUndefined();
    expect(errnoOf(undefined)).toBeUndefined();
    const chain = (depth: number): unknown => {
      let e: unknown = errno('ENOSPC');
      for (let i = 1; i < depth; i++) e = new Error(`wrapper ${i}`, { cause: e });
      return e;
    };
    expect(errnoOf(chain(5))).toBe('ENOSPC');
    expect(errnoOf(chain(6))).toBeUndefined();
    expect(failureClassOfError(chain(6))).toBe('infrastructure');
  });
});
