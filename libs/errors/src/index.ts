export { errorCatalogue, type ErrorCode } from './error-codes.ts';
export { AoinbError, isAoinbError, toAoinbError } from './aoinb-error.ts';
