import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@aoinb/logging';
import { mountSmallDisk, type SmallDisk } from '@aoinb/testkit';
import { CoordinatorClient } from './coordinator-client.ts';

/** A stand-in coordinator serving a 2 MiB bundle, counting the downloads. */
describe('the coordinator client on a full disk', () => {
  const bundle = Buffer.alloc(2 * 1024 * 1024, 7);
  const sha256 = createHash('sha256').update(bundle).digest('hex');
  let server: Server;
  let baseUrl = '';
  let downloads = 0;
  let disk: SmallDisk;

  beforeAll(async () => {
    disk = await mountSmallDisk(1);
    server = createServer((request, response) => {
      downloads++;
      if (request.headers['x-aoinb-farm-id'] !== 'farm-1') response.statusCode = 400;
      response.end(bundle);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await disk?.unmount();
  });

  it('fails at once with ENOSPC when the bundle does not fit, instead of retrying it as a network error', async () => {
    const client = new CoordinatorClient({
      baseUrl,
      token: 't',
      logger: createLogger({ level: 'silent' }),
      farmId: 'farm-1',
      retryForMs: 10 * 60_000,
    });
    const error = await client.downloadBundle('1', path.join(disk.dir, 'bundle.tar'), sha256).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    // One try: a retry loop would have downloaded it again after its first backoff.
    expect(downloads).toBe(1);
  });
});
