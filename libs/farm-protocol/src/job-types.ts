/** The job payload and result are part of the contract (libs/farm-contract/src/jobs.ts). */
export { buildJobName, type BuildJobData, type BuildJobResult, type SequenceStep } from '@aoinb/farm-contract';
