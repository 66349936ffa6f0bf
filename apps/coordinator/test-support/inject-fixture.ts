import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type AoinbConfig } from '@aoinb/config';
import { silentLogger } from '@aoinb/logging';
import { PROTOCOL_VERSION, protocolHeader } from '@aoinb/farm-contract';
import type { BuildJobResult } from '@aoinb/farm-protocol';
import { FarmHarness, farmTokens, type FarmOptions } from '@aoinb/farm-harness';
import { asFileFixture } from '@aoinb/testkit';
import { startCoordinator, type Coordinator } from '../src/coordinator.ts';
import { buildServer } from '../src/http/server.ts';

/** A coordinator started in this process over a real redis-server, and its routes for inject(). */
export interface InjectFixture {
  farm: FarmHarness;
  /** The config it runs with: a test may change it between calls (e.g. a policy). */
  config: AoinbConfig;
  coordinator: Coordinator;
  app: FastifyInstance;
}

/**
 * Starts the coordinator before the describe block's tests and closes it after: the farm's
 * redis-server and config folder (no worker process), with `configure` applied to its
 * config first. No reconcile runs meanwhile: a test that plays the worker holds running
 * builds without an active job, which a reconcile would requeue. Its loops' timers and clients
 * are the file's, not a test's (asFileFixture: the leak check).
 */
export function useInjectFixture(options: FarmOptions, configure?: (config: AoinbConfig) => void): InjectFixture {
  const fixture = {} as InjectFixture;
  beforeAll(
    () =>
      asFileFixture(async () => {
        fixture.farm = await FarmHarness.create(options);
        fixture.config = await loadConfig(await fixture.farm.configDir('coordinator'));
        configure?.(fixture.config);
        fixture.coordinator = await startCoordinator({
          config: fixture.config,
          logger: silentLogger(),
          listen: { host: '127.0.0.1', port: 0 },
          reconcileIntervalMs: 3_600_000,
        });
        fixture.app = await buildServer(fixture.coordinator.context);
        await fixture.app.ready();
      }),
    60_000,
  );
  afterAll(async () => {
    await fixture.app?.close();
    await fixture.coordinator?.close();
    await fixture.farm?.stop();
  });
  return fixture;
}

export interface InjectOptions {
  /** The bearer token (none when absent or null). */
  token?: string | null;
  /** Bytes go as octet-stream, a string as text, anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** One call through inject(), with the body's content type and the token's header. */
export function inject(
  app: FastifyInstance,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  options: InjectOptions = {},
): Promise<LightMyRequestResponse> {
  const { body, token } = options;
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}) };
  let payload: string | Buffer | undefined;
  if (Buffer.isBuffer(body)) {
    payload = body;
    headers['content-type'] = 'application/octet-stream';
  } else if (typeof body === 'string') {
    payload = body;
    headers['content-type'] = 'text/plain';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  return app.inject({ method, url, payload, headers: { ...headers, ...options.headers } });
}

/**
 * inject() as the farm's clients call: the maintainer's token unless `options.token` names another (null:
 * none), and the protocol version on every call with the worker token, as a worker sends it.
 */
export function callAsClient(
  app: FastifyInstance,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  options: InjectOptions = {},
): Promise<LightMyRequestResponse> {
  const token = options.token === undefined ? farmTokens.maintainer : options.token;
  // protocol-check.test.ts covers a worker that does not send it.
  const protocol: Record<string, string> =
    token === farmTokens.worker ? { [protocolHeader]: String(PROTOCOL_VERSION) } : {};
  return inject(app, method, url, { ...options, token, headers: { ...protocol, ...options.headers } });
}

/** A successful result with no artifacts, as a worker standing in for a real one reports it. */
export const standInResult: BuildJobResult = {
  status: 'succeeded',
  builder: 'stand-in',
  run: 1,
  attempt: 1,
  startedAt: new Date().toISOString(),
  finishedAt: new Date().toISOString(),
  artifacts: [],
  phases: {},
};
