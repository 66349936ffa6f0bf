import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stand-in received it. */
export interface SeenRequest {
  method: string;
  /** Path and query, e.g. `/task/1/artifact/amd64/x_1_amd64.deb?attempt=1`. */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface StandinAnswer {
  status: number;
  body?: unknown;
}

/**
 * A small real HTTP server in place of the coordinator, for the worker's seam
 * tests: it serves the bundles it is given, takes uploads and results, records
 * every request, and answers what `answer` says first (a 409, a 503...).
 */
export interface StandinCoordinator {
  url: string;
  requests: SeenRequest[];
  /** task id -> bundle archive served at GET /task/:id/build_bundle. */
  bundles: Map<string, Buffer>;
  /** Consulted first for every request; undefined falls through to the default answers. */
  answer?: (request: SeenRequest) => StandinAnswer | undefined;
  /** The requests whose method and path (without query) match. */
  seen(method: string, pathPattern: RegExp): SeenRequest[];
  close(): Promise<void>;
}

function defaultAnswer(standin: StandinCoordinator, request: SeenRequest): StandinAnswer | Buffer {
  const path = request.url.split('?')[0] ?? '';
  const bundle = /^\/task\/(\d+)\/build_bundle$/.exec(path);
  if (request.method === 'GET' && bundle) {
    const bytes = standin.bundles.get(bundle[1]!);
    return bytes ?? { status: 404, body: { error: { code: 'NOT_FOUND', message: `task ${bundle[1]} has no bundle` } } };
  }
  if (request.method === 'PUT' && /^\/task\/\d+\/artifact\/[^/]+\/[^/]+$/.test(path))
    return { status: 201, body: { created: true, size: request.body.length } };
  if (request.method === 'PUT' && /^\/task\/\d+\/result\/[^/]+$/.test(path))
    return { status: 200, body: { state: 'accepted' } };
  return { status: 404, body: { error: { code: 'NOT_FOUND', message: `no such route: ${request.method} ${path}` } } };
}

export async function startStandinCoordinator(): Promise<StandinCoordinator> {
  const standin: StandinCoordinator = {
    url: '',
    requests: [],
    bundles: new Map(),
    seen: (method, pattern) =>
      standin.requests.filter((r) => r.method === method && pattern.test(r.url.split('?')[0] ?? '')),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    standin.requests.push(request);
    const answer = standin.answer?.(request) ?? defaultAnswer(standin, request);
    if (Buffer.isBuffer(answer)) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': answer.length,
        connection: 'close',
      });
      res.end(answer);
      return;
    }
    const text = JSON.stringify(answer.body ?? {});
    res.writeHead(answer.status, { 'content-type': 'application/json', connection: 'close' });
    res.end(text);
  };
  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standin.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standin;
}
