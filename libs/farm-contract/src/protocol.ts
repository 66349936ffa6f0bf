/**
 * The version of the wire protocol between coordinator and workers (job payloads,
 * worker routes, results). Bump it whenever a change would make an older worker
 * mis-run a newer job or a newer coordinator misread an older worker (a new required
 * field, a field whose meaning changes); adding an optional field that old peers may
 * ignore needs no bump. Coordinator and workers must run the same version.
 */
export const PROTOCOL_VERSION = 2;
// 2: a build may carry needs (ENVREQ, learned requirement) that the worker's claim must check
//    against its capacity (docs/placement.md), and jobs may ask for a build network (`network`);
//    a version-1 worker would ignore both (run anywhere, offline).

/** The BullMQ job name of a build job (its payload: BuildJobData). */
export const buildJobName = 'build';

/** Request header in which workers (and the farm client) send their `PROTOCOL_VERSION`. */
export const protocolHeader = 'x-aoinb-protocol';

/**
 * Sent by workers on every call: the farm identity they joined;
 * the coordinator refuses another farm's (409 FARM_MISMATCH).
 */
export const farmIdHeader = 'x-aoinb-farm-id';

/** The header's value as an integer, or undefined when it is absent or not a number. */
export function protocolOf(header: string | string[] | undefined): number | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined || !/^\s*\d{1,9}\s*$/.test(text)) return undefined;
  return Number(text);
}
