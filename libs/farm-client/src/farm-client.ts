import { readFile } from 'node:fs/promises';
import { loadConfig } from '@aoinb/config';
import { AoinbError, errorCatalogue, type ErrorCode } from '@aoinb/errors';
import { PROTOCOL_VERSION, protocolHeader } from '@aoinb/farm-contract/protocol';

export interface ClientSettings {
  url: string;
  token?: string;
}

async function readTokenFile(file: string): Promise<string> {
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token) return token;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AoinbError(
      code === 'ENOENT' ? 'CONFIG_NOT_FOUND' : 'CONFIG_INVALID',
      `AOINB_TOKEN_FILE=${file}: cannot read the token file (${code ?? (error as Error).message})`,
    );
  }
  throw new AoinbError('CONFIG_INVALID', `AOINB_TOKEN_FILE=${file}: the token file is empty`);
}

/**
 * Where the coordinator is and which token to use: `--url`/`AOINB_URL` and
 * `AOINB_TOKEN`/`AOINB_TOKEN_FILE` first, else the config folder's
 * `coordinator.public_url` and its first maintainer (or admin) token.
 */
export async function clientSettings(configDir: string, urlFlag?: string): Promise<ClientSettings> {
  const envToken =
    process.env.AOINB_TOKEN ??
    (process.env.AOINB_TOKEN_FILE ? await readTokenFile(process.env.AOINB_TOKEN_FILE) : undefined);
  const envUrl = urlFlag ?? process.env.AOINB_URL;
  if (envUrl && envToken) return { url: envUrl.replace(/\/+$/, ''), token: envToken };
  const config = await loadConfig(configDir).catch((error: AoinbError) => {
    if (envUrl) return undefined;
    throw new AoinbError(
      error.code,
      `${error.message}\n(or set AOINB_URL and AOINB_TOKEN to talk to a farm without a config folder)`,
    );
  });
  const token = envToken ?? config?.farm.tokens.find((t) => t.role === 'maintainer' || t.role === 'admin')?.token;
  return { url: (envUrl ?? config!.farm.coordinator.publicUrl).replace(/\/+$/, ''), ...(token ? { token } : {}) };
}

function asErrorCode(value: unknown): ErrorCode {
  return typeof value === 'string' && value in errorCatalogue ? (value as ErrorCode) : 'INTERNAL';
}

/** A thin JSON client of the coordinator's REST API; HTTP errors become AoinbErrors. */
export class FarmClient {
  constructor(readonly settings: ClientSettings) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {}),
      [protocolHeader]: String(PROTOCOL_VERSION),
      ...extra,
    };
  }

  async raw(
    method: string,
    path: string,
    init: { body?: RequestInit['body']; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.settings.url}${path}`, {
        method,
        body: init.body,
        headers: this.headers(init.headers),
        signal: init.signal,
      });
    } catch (error) {
      const { name, cause, message } = error as Error;
      if (name === 'AbortError') throw error;
      // fetch's own message is "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, ...).
      const why = cause instanceof Error ? cause.message : message;
      throw new AoinbError('UNAVAILABLE', `cannot reach the coordinator at ${this.settings.url}: ${why}`);
    }
    if (!response.ok) {
      const text = await response.text();
      let parsed: { error?: { code?: unknown; message?: unknown } } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not JSON: report the text
      }
      const message = typeof parsed.error?.message === 'string' ? parsed.error.message : text || response.statusText;
      throw new AoinbError(asErrorCode(parsed.error?.code), `${method} ${path}: ${message} (HTTP ${response.status})`);
    }
    return response;
  }

  async json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const init =
      body === undefined
        ? { signal }
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal };
    const response = await this.raw(method, path, init);
    return (await response.json()) as T;
  }
}
