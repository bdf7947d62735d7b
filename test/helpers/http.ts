/**
 * A JSON client for the REST API, shared by every test that talks to a real server over HTTP.
 */
export type Api = (
  method: string,
  path: string,
  body?: unknown,
  key?: string,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: any }>;

/** `api(method, path, body?, key?, headers?)` against `baseUrl`: a string body is sent as is, anything else as JSON; the answer is parsed when it is JSON. */
export function httpApi(baseUrl: string | (() => string)): Api {
  return async (method, p, body, key, headers = {}) => {
    const res = await fetch((typeof baseUrl === 'string' ? baseUrl : baseUrl()) + p, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed };
  };
}
