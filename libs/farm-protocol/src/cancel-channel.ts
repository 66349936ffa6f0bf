import { farmKeys, type FarmKeys } from './names.ts';
import type { CancelMessage } from './records.ts';
import type { RedisClient } from './redis-options.ts';

/** Tells whichever worker runs the job to abort it. The build record's `cancelRequested` is the durable copy. */
export async function publishCancel(
  redis: RedisClient,
  message: CancelMessage,
  keys: FarmKeys = farmKeys,
): Promise<void> {
  await redis.publish(keys.cancelChannel, JSON.stringify(message));
}

/** Subscribes a dedicated connection (it can do nothing else afterwards) to cancel requests. */
export async function subscribeCancel(
  subscriber: RedisClient,
  onMessage: (message: CancelMessage) => void,
  keys: FarmKeys = farmKeys,
): Promise<void> {
  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== keys.cancelChannel) return;
    try {
      onMessage(JSON.parse(text) as CancelMessage);
    } catch {
      // Not ours to judge; a malformed message is ignored.
    }
  });
  await subscriber.subscribe(keys.cancelChannel);
}
