import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from '@aoinb/logging';
import {
  closeQueueConnection,
  farmKeys,
  groupFlowQueueName,
  GroupStore,
  queueConnection,
  type FarmKeys,
  type RedisClient,
  type FarmConnection,
} from '@aoinb/farm-protocol';
import { AptRepo, type AptRepoOptions } from '../repo/apt-repo.ts';
import type { StorageLayout } from '../storage/storage-layout.ts';

/** The Release codename of a group's repository (what the member builds' apt pin matches). */
export function groupRepoSuite(groupId: string): string {
  return `aoinb-group-${groupId}`;
}

/** What group builds hold for the coordinator's lifetime: records, repositories, the queue of round parents. */
export interface GroupRuntime {
  store: GroupStore;
  /** The per-group apt repositories (`storage/groups/<id>/repo`). */
  repo: AptRepo;
  /** The `group-flow` queue: one parent job per round, its children the members' jobs in `build-<arch>`. */
  parents: Queue;
  close(): Promise<void>;
}

/**
 * `repoOptions`: the branch repositories' signer, retention and memo of deb facts (group repositories hold hard
 * links of the same debs); `farm.keys`: the farm's key names, whose prefix the round parents' queue shares with
 * the build queues (a child and its parent in one hash tag); `farm.allocateGroupId`: group ids, checked against
 * the farm identity like task ids.
 */
export function createGroupRuntime(
  redis: RedisClient,
  connection: FarmConnection,
  layout: StorageLayout,
  logger: Logger,
  repoOptions: AptRepoOptions,
  farm: { keys: FarmKeys; allocateGroupId?: () => Promise<number> } = { keys: farmKeys },
): GroupRuntime {
  const parents = new Queue(groupFlowQueueName, {
    connection: queueConnection(connection) as ConnectionOptions,
    prefix: farm.keys.prefix,
  });
  const repo = new AptRepo({ repoDir: (id) => layout.groupRepoDir(id) }, logger, {
    ...repoOptions,
    suiteOf: groupRepoSuite,
  });
  return {
    store: new GroupStore(redis, farm.keys, farm.allocateGroupId),
    repo,
    parents,
    close: async () => {
      await parents.close();
      await closeQueueConnection(parents.opts.connection);
    },
  };
}
