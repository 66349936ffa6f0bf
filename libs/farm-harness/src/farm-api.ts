export interface ApiCallOptions {
  /** The bearer token; null or absent: none. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** An answer: its status, its body parsed as JSON when it is JSON (else the text), and the text. */
export interface ApiAnswer {
  status: number;
  body: unknown;
  text: string;
}

/**
 * One HTTP call of a coordinator's API at `baseUrl`: bytes go as octet-stream, a string as
 * text, anything else as JSON.
 */
export async function callApi(
  baseUrl: string,
  method: string,
  route: string,
  body?: unknown,
  options: ApiCallOptions = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  let payload: string | Uint8Array | undefined;
  if (body instanceof Uint8Array) {
    payload = body;
    headers['content-type'] ??= 'application/octet-stream';
  } else if (typeof body === 'string') {
    payload = body;
    headers['content-type'] ??= 'text/plain';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${baseUrl}${route}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Plain text (logs, repository files).
  }
  return { status: res.status, body: parsed, text };
}
