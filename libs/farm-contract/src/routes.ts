/**
 * Every path of the coordinator's HTTP API, as Fastify registers it. Clients
 * build concrete paths with `pathTo(routes.taskStatus, { id })`.
 */
export const routes = {
  health: '/healthz',
  metrics: '/metrics',
  whoami: '/whoami',
  farm: '/farm',
  farmIdentity: '/farm/identity',
  farmIdentityAdopt: '/farm/identity/adopt',
  queue: '/queue',
  builders: '/builder/status',
  tasks: '/task',
  task: '/task/:id',
  taskStatus: '/task/:id/status',
  taskBranch: '/task/:id/branch',
  taskBuild: '/task/:id/build',
  taskCancel: '/task/:id/cancel',
  taskRetry: '/task/:id/retry',
  taskBundle: '/task/:id/build_bundle',
  taskLog: '/task/:id/log',
  taskArtifact: '/task/:id/artifact/:arch/:name',
  taskResult: '/task/:id/result/:arch',
  taskPublish: '/task/:id/publish/:arch',
  groups: '/group',
  group: '/group/:id',
  groupStatus: '/group/:id/status',
  groupCancel: '/group/:id/cancel',
  groupRetry: '/group/:id/retry',
  groupRepo: '/group/:id/repo/*',
  repo: '/repo/:branch/*',
  notifyTest: '/notify/test',
  dashboard: '/',
  dashboardAsset: '/assets/:name',
} as const;

export type RoutePath = (typeof routes)[keyof typeof routes];

/** `/task/:id/status` with `{ id: '7' }` is `/task/7/status`; every value is URI-encoded. */
export function pathTo(route: RoutePath, params: Record<string, string | number> = {}): string {
  return route.replace(/:([a-z_]+)|\*$/g, (whole, name: string | undefined) => {
    const value = params[name ?? '*'];
    if (value === undefined) throw new Error(`pathTo(${route}): no value for ${whole}`);
    return name ? encodeURIComponent(String(value)) : String(value);
  });
}
