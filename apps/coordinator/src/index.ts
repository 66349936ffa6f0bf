export { startCoordinator, type Coordinator, type CoordinatorOptions } from './coordinator.ts';
export type { CoordinatorContext, Principal } from './context.ts';
export type { GroupStateSource } from './metrics/group-metrics.ts';
