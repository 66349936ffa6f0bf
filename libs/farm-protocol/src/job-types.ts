/** The job payload and result are part of the contract (libs/farm-contract/src/jobs.ts). */
export { buildJobName } from '@aoinb/farm-contract/protocol';
export type { BuildJobData, BuildJobResult, SequenceStep } from '@aoinb/farm-contract';
