/**
 * The one catalogue of aoinb error codes. Every error the farm reports to a
 * person (CLI message, HTTP body, job failure reason) carries one of these
 * codes, so scripts and dashboards can match on them instead of on prose.
 */
export const errorCatalogue = {
  // Configuration and input files
  CONFIG_NOT_FOUND: { status: 500, summary: 'configuration folder or file missing' },
  CONFIG_INVALID: { status: 500, summary: 'configuration file does not validate' },
  SOURCE_LIST_MISSING: { status: 400, summary: 'no source list for the branch' },
  USAGE: { status: 400, summary: 'command line or request is malformed' },

  // Bundles
  BUNDLE_INVALID: { status: 400, summary: 'bundle does not parse' },
  BUNDLE_UNSAFE: { status: 400, summary: 'bundle archive holds unsafe entries' },
  BUNDLE_TOO_LARGE: { status: 413, summary: 'bundle archive exceeds the size limit' },
  BUNDLE_MISSING: { status: 410, summary: "the task's bundle is no longer in the coordinator's storage" },
  ARCH_NOT_ALLOWED: { status: 400, summary: 'architecture filters allow no target' },
  SOURCE_UNSUPPORTED: { status: 400, summary: 'source type not supported' },
  SOURCE_FORBIDDEN: { status: 400, summary: 'source URL or destination is not allowed' },
  GROUP_INVALID: { status: 400, summary: 'group file does not parse' },

  // Build host
  BASEOS_MISSING: { status: 500, summary: 'base OS not loaded' },
  BASEOS_LOAD_FAILED: { status: 500, summary: 'base OS could not be loaded' },
  INSTANCE_NOT_FOUND: { status: 404, summary: 'no such instance' },
  SOURCE_FETCH_FAILED: { status: 502, summary: 'source could not be fetched' },
  CHECKSUM_MISMATCH: { status: 422, summary: 'source checksum does not match' },
  ARTIFACT_INVALID: { status: 422, summary: 'a build output is not a valid package of the bundle' },
  MOUNT_FAILED: { status: 500, summary: 'overlay mount failed' },
  CONTAINER_FAILED: { status: 500, summary: 'container could not run' },
  NOT_ROOT: { status: 500, summary: 'root privileges required' },

  // Farm API
  UNAUTHORIZED: { status: 401, summary: 'missing or wrong token' },
  FORBIDDEN: { status: 403, summary: 'token role may not do this' },
  NETWORK_NOT_ALLOWED: { status: 403, summary: 'the coordinator does not let this token ask for a build network' },
  NOT_FOUND: { status: 404, summary: 'no such resource' },
  CONFLICT: { status: 409, summary: 'resource is in the wrong state' },
  PROTOCOL_MISMATCH: { status: 426, summary: 'the caller speaks another farm protocol version' },
  STALE_ATTEMPT: { status: 409, summary: 'addressed to a run or attempt of a build that is no longer current' },
  REPO_CONFLICT: { status: 409, summary: 'repository already holds that package version with other contents' },
  DEPENDENCY_CYCLE: { status: 422, summary: 'group dependencies form a cycle' },
  TOO_MANY_FOLLOWERS: { status: 429, summary: 'the token follows too many live logs at once' },
  UNAVAILABLE: { status: 503, summary: 'a backing service is unreachable' },
  STORE_COMMAND_FAILED: { status: 500, summary: 'a Redis command of a state write failed' },
  STORAGE_FULL: { status: 507, summary: "the coordinator's storage disk is full" },
  FARM_IDENTITY_LOST: {
    status: 503,
    summary: "Redis does not hold this farm's identity (lost its data, or another Redis)",
  },
  FARM_MISMATCH: { status: 409, summary: 'the request comes from a worker of another farm identity' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, summary: 'the Idempotency-Key was used with another request' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, summary: 'a request with this Idempotency-Key is still running' },
  INTERNAL: { status: 500, summary: 'internal error' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof errorCatalogue;
