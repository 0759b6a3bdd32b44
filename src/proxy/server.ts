import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { keylessRefusal, presentedKey, sameSecret } from '../common/index.js';
import type { ProxyConfig } from '../config.js';
import type { Logger } from '../log.js';
import { isRecord, type Json } from './anthropic-types.js';
import { errorJson, ProxyError } from './errors.js';
import { MAX_JSON_DEPTH, withinDepth } from './json-depth.js';
import { createMessagesHandler, type MessagesDeps } from './messages.js';
import { relayNodeOf } from './provider-waits.js';
import { sendError } from './responses.js';
import { createTokenCounter } from './tokens.js';

// The HTTP edge: routing, auth, body limits and the single place where errors become responses.

const VERSION = '0.1.0';

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new ProxyError('client_request', 413, 'request_too_large', `request body is larger than ${limit} bytes`);
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(tooLarge());
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts, size)));
    req.on('error', reject);
  });
}

function isUnder(path: string, prefix: string): boolean {
  return path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '/');
}

function parseJson(body: Buffer, parse: (raw: Buffer) => unknown): Json {
  let value: unknown;
  try {
    value = parse(body);
  } catch (error) {
    throw new ProxyError(
      'client_request',
      400,
      'invalid_request_error',
      `malformed JSON body: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!isRecord(value))
    throw new ProxyError('client_request', 400, 'invalid_request_error', 'the body must be a JSON object');
  // Frozen subtrees are the memoised tools arrays, checked when first seen.
  if (!withinDepth(value, MAX_JSON_DEPTH, Object.isFrozen)) {
    throw new ProxyError(
      'client_request',
      400,
      'invalid_request_error',
      `the body is nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  return value;
}

/** Requests under `prefix` handed to another part of the relay (the web console's /ui/), which answers them itself. */
export interface MountedRoutes {
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export function createProxyServer(
  config: ProxyConfig,
  logger: Logger,
  deps: MessagesDeps,
  mounted?: MountedRoutes,
): Server {
  const counter = createTokenCounter();
  const handleMessages = createMessagesHandler(deps);
  const status = () => ({
    status: 'ok',
    provider: config.models.default.provider,
    model: config.models.default.model,
    version: VERSION,
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    if (mounted !== undefined && isUnder(path, mounted.prefix)) return mounted.handle(req, res);
    // The CLI's start-up probe (HEAD / or /api/hello) carries no credentials; /health is for monitors.
    if (method === 'HEAD') {
      res.writeHead(path === '/' || path.endsWith('/api/hello') ? 200 : 404).end();
      return;
    }
    if (method === 'GET' && path === '/health') return json(res, 200, { status: 'ok' });
    if (config.authToken !== undefined && !sameSecret(config.authToken, presentedKey(req.headers))) {
      throw new ProxyError(
        'client_request',
        401,
        'authentication_error',
        'missing or wrong proxy token (PROXY_AUTH_TOKEN)',
      );
    }
    const refusal = config.authToken === undefined ? keylessRefusal(req.headers) : null;
    if (refusal !== null) throw new ProxyError('client_request', 403, 'permission_error', refusal);
    if (method === 'GET' && path === '/') return json(res, 200, status());
    if (method === 'GET' && path === '/v1/models') {
      const seen = new Set<string>();
      const data = Object.values(config.models)
        .map((ref) => `${ref.provider}/${ref.model}`)
        .filter((id) => !seen.has(id) && seen.add(id))
        .map((id) => ({ type: 'model', id, display_name: id, created_at: '2026-01-01T00:00:00Z' }));
      return json(res, 200, {
        data,
        has_more: false,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
      });
    }
    if (method === 'POST' && path === '/v1/messages') {
      const body = await readBody(req, config.maxBodyBytes);
      await handleMessages(parseJson(body, deps.tools.parseBody), body.length, res, {
        relayNode: relayNodeOf(req),
        userAgent: req.headers['user-agent'],
      });
      return;
    }
    if (method === 'POST' && path === '/v1/messages/count_tokens') {
      const body = parseJson(await readBody(req, config.maxBodyBytes), deps.tools.parseBody);
      return json(res, 200, { input_tokens: await counter.count(body) });
    }
    throw new ProxyError('client_request', 404, 'not_found_error', `no route ${method} ${path}`);
  }

  return createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const id = randomBytes(6).toString('hex'); // only failures are logged, so only they need an id
      if (error instanceof ProxyError) {
        const level = error.status >= 500 || error.status === 429 ? 'warn' : 'info';
        logger[level]({ id, status: error.status, kind: error.kind, msg: error.message }, 'request failed');
        if (!res.headersSent) sendError(res, error);
        else res.end();
        return;
      }
      if (res.destroyed || (error instanceof Error && error.name === 'AbortError')) return; // client went away
      logger.error({ id, err: error }, 'unexpected proxy error');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(errorJson('api_error', 'unexpected proxy error; see the relay log'));
      } else res.end();
    });
  });
}
