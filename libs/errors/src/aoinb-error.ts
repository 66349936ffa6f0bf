import { errorCatalogue, type ErrorCode } from './error-codes.ts';

/** An error meant for a person: a catalogue code plus a message naming the problem. */
export class AoinbError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AoinbError';
    this.code = code;
  }

  get httpStatus(): number {
    return errorCatalogue[this.code].status;
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isAoinbError(value: unknown): value is AoinbError {
  return value instanceof AoinbError;
}

/** Wraps anything thrown into an AoinbError so callers report one shape. */
export function toAoinbError(value: unknown, fallback: ErrorCode = 'INTERNAL'): AoinbError {
  if (value instanceof AoinbError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new AoinbError(fallback, message, { cause: value });
}
