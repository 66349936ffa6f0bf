import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { parseSource } from '@aoinb/bundle';
import type { SourcePolicy } from '../src/sources/destination-policy.ts';
import { fetchSources } from '../src/sources/fetch-sources.ts';

/** A loopback HTTP server that counts every request it gets: the proof a forbidden one was never contacted. */
export interface CountingServer {
  port: number;
  url: string;
  hits: number;
  close(): Promise<void>;
}

async function countingServer(handler: RequestListener): Promise<CountingServer> {
  const server: Server = createServer((req, res) => {
    state.hits += 1;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  const state: CountingServer = {
    port,
    url: `http://127.0.0.1:${port}`,
    hits: 0,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  return state;
}

export const payload = Buffer.from('the real source tarball\n');
export const payloadSha = createHash('sha256').update(payload).digest('hex');

export function policy(allow: SourcePolicy['allow'] = [], limits: Partial<SourcePolicy> = {}): SourcePolicy {
  return { allow, maxBytes: 1024 * 1024, timeoutMs: 20_000, stallMs: 5_000, ...limits };
}

export function src(entry: string, checksum = `sha256::${payloadSha}`) {
  return parseSource(entry, checksum, 'spec: SRCS');
}

export interface FetchOutcome {
  dest: string;
  cache: string;
  error: (Error & { code?: string }) | undefined;
}

/** A test file's scratch folder with a canary beside the workspaces, and the servers its tests start. */
export interface SourceFetchFixture {
  readonly work: string;
  /** Host files a hostile bundle aims at: `victim/keep` and `secret.token`. */
  readonly canary: string;
  /** Fetches into a fresh workspace; `cache` is per test unless shared on purpose. */
  fetchInto(name: string, entries: ReturnType<typeof src>[], p: SourcePolicy, cache?: string): Promise<FetchOutcome>;
  /** A counting server, closed after the test. */
  serve(handler: RequestListener): Promise<CountingServer>;
  expectCanaryIntact(): Promise<void>;
}

/** Registers the hooks that make and remove the folders and servers: call once at the top of a test file. */
export function useSourceFetchFixture(): SourceFetchFixture {
  let work = '';
  let canary = '';
  const servers: CountingServer[] = [];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'aoinb-srcsafe-'));
    canary = path.join(work, 'canary');
    await mkdir(path.join(canary, 'victim'), { recursive: true });
    await writeFile(path.join(canary, 'victim/keep'), 'precious\n');
    await writeFile(path.join(canary, 'secret.token'), 'do-not-copy\n');
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  return {
    get work() {
      return work;
    },
    get canary() {
      return canary;
    },
    async fetchInto(name, entries, p, cache = path.join(work, 'ws', name, 'cache')) {
      const dest = path.join(work, 'ws', name, 'sources');
      await mkdir(path.dirname(dest), { recursive: true });
      const error = await fetchSources(entries, cache, dest, p).then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      return { dest, cache, error };
    },
    async serve(handler) {
      const s = await countingServer(handler);
      servers.push(s);
      return s;
    },
    async expectCanaryIntact() {
      expect(await readFile(path.join(canary, 'victim/keep'), 'utf8')).toBe('precious\n');
    },
  };
}
