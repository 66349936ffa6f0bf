import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AoinbError, isLocalHostError, type ErrorCode } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';
import { PROTOCOL_VERSION, protocolHeader } from '@aoinb/farm-contract/protocol';
import { attemptKeyHeader, backoffDelay, farmIdHeader, sleep, type BuildJobResult } from '@aoinb/farm-protocol';

export interface CoordinatorClientOptions {
  baseUrl: string;
  token: string;
  logger: Logger;
  /** How long a call keeps retrying while the coordinator is unreachable or answers 5xx. */
  retryForMs?: number;
  /** The farm identity this worker joined, sent with every call: the coordinator refuses another farm's worker. */
  farmId?: string;
}

/** The farm no longer knows the build (Redis lost its data, or this worker joined another farm): never retried. */
const lostFarmCodes: ReadonlySet<string> = new Set(['FARM_IDENTITY_LOST', 'FARM_MISMATCH']);

/** Wrong bytes can be a broken transfer: a few more tries, never the whole window of an unreachable coordinator. */
const checksumTries = 3;

/** An answer that retrying will not change (4xx). */
class FinalHttpError extends AoinbError {}

async function errorFrom(response: Response, what: string): Promise<AoinbError> {
  let code: ErrorCode = 'UNAVAILABLE';
  let message = `${what}: HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: ErrorCode; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = `${what}: ${body.error.message}`;
  } catch {
    // Not JSON; keep the status line.
  }
  return response.status < 500 || lostFarmCodes.has(code)
    ? new FinalHttpError(code, message)
    : new AoinbError(code, message);
}

/**
 * The worker's side of the coordinator's HTTP API: bundle download, artifact
 * upload and result report. Network errors and 5xx are retried with backoff
 * (the coordinator may be restarting); 4xx and this host's own errors (ENOSPC
 * writing the bundle, EIO reading an artifact) are final.
 */
export class CoordinatorClient {
  private readonly retryForMs: number;

  constructor(private readonly options: CoordinatorClientOptions) {
    this.retryForMs = options.retryForMs ?? 15 * 60_000;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      authorization: `Bearer ${this.options.token}`,
      [protocolHeader]: String(PROTOCOL_VERSION),
      ...(this.options.farmId ? { [farmIdHeader]: this.options.farmId } : {}),
      ...extra,
    };
  }

  private async retrying<T>(what: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryForMs;
    for (let failures = 1; ; failures++) {
      try {
        return await call();
      } catch (error) {
        // A full disk or a read-only file system here is not the coordinator being away: retrying hides it.
        const mismatch = error instanceof AoinbError && error.code === 'CHECKSUM_MISMATCH';
        if (error instanceof FinalHttpError || isLocalHostError(error) || signal?.aborted || Date.now() > deadline)
          throw error;
        if (mismatch && failures >= checksumTries)
          throw new AoinbError('CHECKSUM_MISMATCH', `${error.message} (${failures} tries)`, { cause: error });
        const delay = backoffDelay(failures, 5000);
        this.options.logger.warn({ err: (error as Error).message, retryInMs: delay }, `${what} failed; retrying`);
        await sleep(delay, signal);
      }
    }
  }

  /** Downloads the task's bundle archive to `dest` and checks its sha256. */
  async downloadBundle(taskId: string, dest: string, sha256: string, signal?: AbortSignal): Promise<void> {
    const what = `downloading the bundle of task ${taskId}`;
    await this.retrying(what, signal, async () => {
      const response = await fetch(`${this.options.baseUrl}/task/${taskId}/build_bundle`, {
        headers: this.headers(),
        signal,
      });
      if (!response.ok || !response.body) throw await errorFrom(response, what);
      const hash = createHash('sha256');
      const source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
      source.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(source, createWriteStream(dest));
      const got = hash.digest('hex');
      if (got !== sha256) {
        await rm(dest, { force: true });
        throw new AoinbError(
          'CHECKSUM_MISMATCH',
          `${what}: checksum mismatch: sha256 ${got} does not match the task's ${sha256}`,
        );
      }
    });
  }

  /** Uploads one artifact; the coordinator checks the sha256 and fences on the attempt. */
  async uploadArtifact(
    taskId: string,
    arch: string,
    at: { run: number; attempt: number },
    attemptKey: string,
    file: string,
    name: string,
    sha256: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const what = `uploading ${name}`;
    const url =
      `${this.options.baseUrl}/task/${taskId}/artifact/${arch}/${encodeURIComponent(name)}` +
      `?run=${at.run}&attempt=${at.attempt}`;
    await this.retrying(what, signal, async () => {
      const response = await fetch(url, {
        method: 'PUT',
        headers: this.headers({
          'content-type': 'application/octet-stream',
          'x-checksum-sha256': sha256,
          [attemptKeyHeader]: attemptKey,
        }),
        body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
        duplex: 'half',
        signal,
      });
      if (!response.ok) throw await errorFrom(response, what);
      await response.arrayBuffer();
    });
  }

  /** Reports the result; resolves false when the coordinator refuses it (a newer run or attempt owns the build). */
  async reportResult(taskId: string, arch: string, attemptKey: string, result: BuildJobResult): Promise<boolean> {
    const what = `reporting the result of task ${taskId} (${arch})`;
    try {
      await this.retrying(what, undefined, async () => {
        const response = await fetch(`${this.options.baseUrl}/task/${taskId}/result/${arch}`, {
          method: 'PUT',
          headers: this.headers({ 'content-type': 'application/json', [attemptKeyHeader]: attemptKey }),
          body: JSON.stringify(result),
        });
        if (!response.ok) throw await errorFrom(response, what);
        await response.arrayBuffer();
      });
      return true;
    } catch (error) {
      if (
        error instanceof FinalHttpError &&
        (error.code === 'CONFLICT' || error.code === 'STALE_ATTEMPT' || lostFarmCodes.has(error.code))
      ) {
        this.options.logger.warn({ taskId, arch, err: error.message }, 'result refused');
        return false;
      }
      throw error;
    }
  }
}
