export { startCoordinator, type Coordinator, type CoordinatorOptions } from './coordinator.ts';
export type { CoordinatorContext, Principal } from './context.ts';
