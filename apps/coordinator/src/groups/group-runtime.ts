import { FlowProducer, Queue, type ConnectionOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '@aoinb/logging';
import { farmPrefix, groupFlowQueueName, GroupStore } from '@aoinb/farm-protocol';
import { AptRepo, type AptRepoOptions } from '../repo/apt-repo.ts';
import type { StorageLayout } from '../storage/storage-layout.ts';
import { KeyedMutex } from './keyed-mutex.ts';

/** The Release codename of a group's repository (what the member builds' apt pin matches). */
export function groupRepoSuite(groupId: string): string {
  return `aoinb-group-${groupId}`;
}

/** What group builds hold for the coordinator's lifetime: records, repositories, BullMQ handles, per-group lock. */
export interface GroupRuntime {
  store: GroupStore;
  /** The per-group apt repositories (`storage/groups/<id>/repo`). */
  repo: AptRepo;
  /** Adds a round's flow: the parent in `group-flow`, the members in `build-<arch>`. */
  flows: FlowProducer;
  /** The `group-flow` queue of parent jobs. */
  parents: Queue;
  /** Serialises the changes of one group. */
  lock<T>(groupId: string, task: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `repoOptions`: the branch repositories' signer, retention and memo of deb facts (group repositories hold hard links of the same debs). */
export function createGroupRuntime(
  redis: Redis,
  connection: RedisOptions,
  layout: StorageLayout,
  logger: Logger,
  repoOptions: AptRepoOptions,
): GroupRuntime {
  const mutex = new KeyedMutex();
  const bullConnection = connection as ConnectionOptions;
  const flows = new FlowProducer({ connection: bullConnection, prefix: farmPrefix });
  const parents = new Queue(groupFlowQueueName, { connection: bullConnection, prefix: farmPrefix });
  const repo = new AptRepo({ repoDir: (id) => layout.groupRepoDir(id) }, logger, {
    ...repoOptions,
    suiteOf: groupRepoSuite,
  });
  return {
    store: new GroupStore(redis),
    repo,
    flows,
    parents,
    lock: (groupId, task) => mutex.run(groupId, task),
    close: async () => {
      await Promise.all([flows.close(), parents.close()]);
    },
  };
}
