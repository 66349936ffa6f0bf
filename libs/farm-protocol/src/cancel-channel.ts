import type { Redis } from 'ioredis';
import { farmKeys } from './names.ts';
import type { CancelMessage } from './records.ts';

/** Tells whichever worker runs the job to abort it. The build record's `cancelRequested` is the durable copy. */
export async function publishCancel(redis: Redis, message: CancelMessage): Promise<void> {
  await redis.publish(farmKeys.cancelChannel, JSON.stringify(message));
}

/** Subscribes a dedicated connection (it can do nothing else afterwards) to cancel requests. */
export async function subscribeCancel(subscriber: Redis, onMessage: (message: CancelMessage) => void): Promise<void> {
  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== farmKeys.cancelChannel) return;
    try {
      onMessage(JSON.parse(text) as CancelMessage);
    } catch {
      // Not ours to judge; a malformed message is ignored.
    }
  });
  await subscriber.subscribe(farmKeys.cancelChannel);
}
