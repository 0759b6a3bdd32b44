import type { ServerResponse } from 'node:http';
import { errorJson, type ProxyError } from './errors.js';

// How answers leave the proxy: JSON with a status (errors in Anthropic's shape), or the headers an SSE stream
// starts with.

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, error: ProxyError): void {
  const headers: Record<string, string> = {};
  if (error.extra.retryAfterMs !== undefined)
    headers['retry-after'] = String(Math.ceil(error.extra.retryAfterMs / 1000));
  sendJson(res, error.status, errorJson(error.type, error.message), headers);
}
