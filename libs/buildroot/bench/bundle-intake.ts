import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extractBundleArchive, packBundle } from '@aoinb/bundle';

/**
 * What a worker agent does between claiming a job and calling runBuild(), with the
 * same library calls (apps/worker job-runner.ts: coordinator-client downloadBundle,
 * bundle-files extractBundle): the bundle archive fetched over HTTP from a server on
 * loopback with its SHA256 checked while it streams, then extracted with the bundle
 * library's checked extraction. Not included: the claim's own Redis transition (one
 * Lua script; dispatch is measured in "Farm and groups").
 */
export interface Intake {
  /** The extracted bundle, for runBuild(). */
  bundleDir: string;
  ms: number;
}

export interface BundleServer {
  fetchInto(dir: string): Promise<Intake>;
  close(): Promise<void>;
}

export async function serveBundle(bundleDir: string): Promise<BundleServer> {
  const archive = await packBundle(bundleDir);
  const sha256 = createHash('sha256').update(archive).digest('hex');
  const server = createServer((_req, res) => res.writeHead(200, { 'content-length': archive.length }).end(archive));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/build_bundle`;
  return {
    async fetchInto(dir) {
      await mkdir(dir, { recursive: true });
      const started = performance.now();
      const response = await fetch(url);
      if (!response.ok || !response.body) throw new Error(`bundle download: HTTP ${response.status}`);
      const hash = createHash('sha256');
      const source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
      source.on('data', (chunk: Buffer) => hash.update(chunk));
      const file = path.join(dir, 'bundle.tar.gz');
      await pipeline(source, createWriteStream(file));
      if (hash.digest('hex') !== sha256) throw new Error('bundle download: sha256 mismatch');
      const extracted = path.join(dir, 'bundle');
      await extractBundleArchive(file, extracted, { maxArchiveBytes: 64 * 2 ** 20, maxBytes: 256 * 2 ** 20 });
      return { bundleDir: extracted, ms: performance.now() - started };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
