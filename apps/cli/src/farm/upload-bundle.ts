import { createHash } from 'node:crypto';
import type { FarmClient } from '@aoinb/farm-client';

/** `PUT /task/:id/build_bundle` with the packed bundle and its SHA-256, which the coordinator checks. */
export async function uploadBundle(client: FarmClient, taskId: string, tar: Buffer, signal: AbortSignal) {
  await client.raw('PUT', `/task/${taskId}/build_bundle`, {
    body: tar,
    headers: {
      'content-type': 'application/octet-stream',
      'x-checksum-sha256': createHash('sha256').update(tar).digest('hex'),
    },
    signal,
  });
}
