import type { IncomingMessage, ServerResponse } from 'node:http';

// The gateway's HTTP plumbing: a status-carrying error, a body read within a limit, a JSON answer.

/** A request's fault (or the gateway's refusal), answered with its status in the API's error shape. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new RequestError(413, `the body is larger than ${limit} bytes (GATEWAY_MAX_BODY_BYTES)`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return; // already refused: nothing more is kept
      size += chunk.length;
      if (size > limit) {
        // Answered first, the connection closed after (connection: close): destroying now would lose the 413.
        reject(new RequestError(413, `the body is larger than ${limit} bytes (GATEWAY_MAX_BODY_BYTES)`));
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Statuses after which a client must not send the same request again: the work may already have been done. */
const NOT_TO_RETRY = new Set([502, 504]);

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    // The official SDKs retry 5xx by themselves; a failed agentic run repeated would repeat its edits.
    ...(NOT_TO_RETRY.has(status) ? { 'x-should-retry': 'false' } : {}),
    // An unread body (too large) is not drained: the connection goes.
    ...(status === 413 ? { connection: 'close' } : {}),
    ...headers,
  });
  res.end(text);
}

/** The body as JSON; a body that is not JSON is a 400. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const raw = await readBody(req, limit);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RequestError(400, 'the body is not valid JSON');
  }
}
