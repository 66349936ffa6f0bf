export { errorCatalogue, type ErrorCode } from './error-codes.ts';
export { AoinbError, isAoinbError, toAoinbError } from './aoinb-error.ts';
export { errnoOf, failureClasses, failureClassOfError, isLocalHostError, type FailureClass } from './failure-class.ts';
