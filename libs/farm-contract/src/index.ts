/**
 * @aoinb/farm-contract: every message between the farm's processes, one TypeBox
 * schema each with its type (`Static<>`), the route paths and the protocol
 * version. A leaf: it imports nothing of ours.
 *
 * Lifecycle (the coordinator is the farm's one HTTP server; workers and clients call it):
 *
 * Client (CLI `aoinb submit`, dashboard, scripts; maintainer token)
 *   1. POST   /task                     -> CreateTaskReply   a task in state `created`
 *   2. PUT    /task/:id/build_bundle    -> BundleReply       the bundle (tar); the same bytes again is a no-op (200)
 *   3. PUT    /task/:id/branch          -> SetBranchReply
 *   4. PUT    /task/:id/build           -> StartBuildReply   one BuildJobData per arch on `build-<arch>`,
 *                                                            state `queued`
 *      GET    /task/:id/status, /task/:id/log (text or SSE: lines, then one LogEndEvent), /task/:id/artifact/...
 *      POST   /task/:id/cancel, /task/:id/retry (a new run: new job, new log)
 *   Groups: POST /group with tasks in `created` (bundle uploaded) -> members released as dependencies succeed.
 *
 * Worker (worker token; every call carries `x-aoinb-protocol: PROTOCOL_VERSION`
 * and the farm identity it joined, `x-aoinb-farm-id`: another farm's is 409 FARM_MISMATCH)
 *   1. Heartbeat: BuilderFacts written to Redis every few seconds with a TTL; a
 *      builder whose key expired is `offline`.
 *   2. Take: a BullMQ job of `build-<arch>`. Its BuildJobData.protocol must equal
 *      the worker's PROTOCOL_VERSION, else the worker hands the job back
 *      (delayed, for a worker of the right version) and logs why: it never
 *      runs a job it may misread.
 *   3. Claim: the guarded `running` transition with a new attempt number and a
 *      fresh attempt key (its sha256 stored on the build). The BullMQ lock is the
 *      lease: the worker renews it while building; a worker that stops renewing
 *      (killed, partitioned) loses the job to the stalled check, which starts the
 *      build again as the next attempt.
 *   4. GET /task/:id/build_bundle (checked against bundleSha256), build, stream
 *      the log into Redis.
 *   5. PUT /task/:id/artifact/:arch/:name?run=R&attempt=N (x-aoinb-attempt-key,
 *      X-Checksum-Sha256) per .deb -> ArtifactUploadReply; the same bytes again
 *      is a no-op (200), so retries after a lost answer are safe.
 *   6. PUT /task/:id/result/:arch -> ResultReply with BuildJobResult. Fenced on
 *      the run and attempt: the result of one that is no longer running is
 *      refused (409 STALE_ATTEMPT), and a repeat once one was applied (409
 *      CONFLICT): the worker treats 409 as "settled by someone else" and drops it.
 *   Network errors and 5xx are retried with backoff; any 4xx is final.
 *
 * Cancellation: `POST /task/:id/cancel` cancels queued builds at once and sets
 * `cancel_requested` on running ones, then publishes a CancelMessage; the
 * worker running that job aborts the container and reports `cancelled`. A job
 * whose build was cancelled before it started is settled without building.
 *
 * Version mismatch: the coordinator answers a call whose `x-aoinb-protocol`
 * differs from its own with 426 PROTOCOL_MISMATCH naming both versions, and
 * worker-token calls must carry the header. Coordinator and workers are
 * upgraded together; a bump is the rule in protocol.ts.
 *
 * Adding a route: its schemas here (request, every 2xx answer), the path in
 * `routes`, then the route in apps/coordinator/src/http/routes with `schema:`
 * from `routeSchema()`; see docs/protocol.md.
 */
export { PROTOCOL_VERSION, buildJobName, farmIdHeader, protocolHeader, protocolOf } from './protocol.ts';
export { routes, pathTo, type RoutePath } from './routes.ts';
export * from './states.ts';
export * from './common.ts';
export * from './shared-types.ts';
export * from './jobs.ts';
export * from './events.ts';
export * from './task-views.ts';
export * from './task-requests.ts';
export * from './group-views.ts';
export * from './farm-views.ts';
