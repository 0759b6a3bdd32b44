import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SessionEngine } from '../../sessions/index.js';
import {
  type GatewayStatsSnapshot,
  isRecord,
  keylessRefusal,
  num,
  presentedKey,
  sameSecret,
  str,
} from '../common/index.js';
import type { GatewayConfig } from '../config.js';
import type { Logger } from '../log.js';
import { anthropicMessages } from './anthropic-messages.js';
import type { Api } from './api.js';
import { type ExchangeDeps, exchange, MODEL_IDS } from './exchange.js';
import { RequestError, readJson, sendJson } from './http.js';
import { createConversationMemory } from './memory.js';
import { createGatewayMetrics } from './metrics.js';
import { openAiChat } from './openai-chat.js';
import { openAiResponses } from './openai-responses.js';
import { createGatewayRunner } from './runner.js';

// The gateway's HTTP edge: routes (each also without /v1), keys, and the one place an error becomes a response.

/** Route labels for the metrics come from this set: unknown paths must not grow them without bound. */
const KNOWN_ROUTES = new Set([
  'POST /chat/completions',
  'POST /responses',
  'POST /messages',
  'POST /chat',
  'GET /models',
  'GET /health',
  'GET /metrics',
  'GET /responses/:id',
]);

/** `/chat`: one prompt in, one small object out. */
const simpleChat: Api = {
  idPrefix: 'chat',
  parse: () => ({ ok: false, message: '/chat reads its own body' }),
  answer: (answer) => ({
    text: answer.text,
    model: answer.model,
    inputTokens: answer.usage.inputTokens + answer.usage.cacheReadTokens,
    outputTokens: answer.usage.outputTokens,
    stopReason: answer.stopReason,
    sessionId: answer.sessionId,
  }),
  stream: () => {
    throw new Error('/chat does not stream');
  },
  error: (_status, message) => ({ error: message }),
};

export interface GatewayServerOptions {
  config: GatewayConfig;
  engine: SessionEngine;
  logger: Logger;
}

export function createGatewayServer(options: GatewayServerOptions): {
  server: Server;
  stats(): GatewayStatsSnapshot;
} {
  const { config, engine, logger } = options;
  const runner = createGatewayRunner(engine, { queueMax: config.queueMax });
  const deps: ExchangeDeps = {
    config,
    runner,
    memory: createConversationMemory((ref) => engine.findNodeByMessage(ref) !== undefined),
    metrics: createGatewayMetrics(() => runner.counts()),
    logger,
  };

  /** Which key a request came with, as an opaque tag (never the key itself): conversations are per key. */
  const scopeOf = (req: IncomingMessage): string =>
    createHash('sha256')
      .update(presentedKey(req.headers) ?? '')
      .digest('hex')
      .slice(0, 16);

  const authorised = (req: IncomingMessage): boolean =>
    config.apiKeys.length === 0 || config.apiKeys.some((key) => sameSecret(key, presentedKey(req.headers)));

  async function serveApi(api: Api, req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const parsed = api.parse(await readJson(req, config.maxBodyBytes));
    if (!parsed.ok) throw new RequestError(400, parsed.message);
    await exchange(deps, api, { ...parsed.request, scope: scopeOf(req) }, req, res, route);
  }

  async function serveChat(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const body = await readJson(req, config.maxBodyBytes);
    if (!isRecord(body) || typeof body.prompt !== 'string' || body.prompt.trim() === '') {
      throw new RequestError(400, '`prompt` must be a non-empty string');
    }
    const maxTurns = num(body.maxTurns);
    const timeoutMs = num(body.timeoutMs);
    const request = {
      conversation: {
        system: str(body.systemPrompt) ?? '',
        turns: [{ role: 'user' as const, text: body.prompt }],
      },
      model: str(body.model) ?? 'claude-sonnet',
      stream: false,
      includeUsage: false,
      scope: scopeOf(req),
      ...(maxTurns === undefined ? {} : { maxTurns }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(typeof body.priority === 'string' ? { priority: body.priority } : {}),
    };
    await exchange(deps, simpleChat, request, req, res, route);
  }

  function health(res: ServerResponse): void {
    const counts = runner.counts();
    sendJson(res, 200, {
      ok: true,
      active: counts.active,
      queued: counts.queued,
      maxConcurrent: engine.stats().maxSessions,
      maxQueue: config.queueMax,
      prestarted: engine.stats().prestarted ?? 0,
    });
  }

  async function metrics(res: ServerResponse): Promise<void> {
    const { body, contentType } = await deps.metrics.render();
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
  }

  function storedResponse(req: IncomingMessage, res: ServerResponse, id: string): void {
    const body = deps.memory.stored(scopeOf(req), id);
    if (body === undefined) throw new RequestError(404, `no stored response with id '${id}'`);
    sendJson(res, 200, body);
  }

  function models(res: ServerResponse): void {
    const created = Math.floor(Date.now() / 1000);
    const data = MODEL_IDS.map((id) => ({ id, object: 'model', created, owned_by: 'claude-relay' }));
    sendJson(res, 200, { object: 'list', data });
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]?.replace(/^\/v1(?=\/)/, '') ?? '/';
    const storedId = req.method === 'GET' ? path.match(/^\/responses\/([\w-]+)$/)?.[1] : undefined;
    const label = storedId === undefined ? `${req.method} ${path}` : 'GET /responses/:id';
    const route = KNOWN_ROUTES.has(label) ? label : 'other';
    // Errors speak the API the client was using, even on a path the gateway does not serve
    // (`/v1/messages/count_tokens` is an Anthropic client's).
    const api =
      path === '/chat'
        ? simpleChat
        : path.startsWith('/messages')
          ? anthropicMessages
          : path.startsWith('/responses')
            ? openAiResponses
            : openAiChat;
    (async () => {
      if (route === 'GET /health') return health(res);
      if (!authorised(req)) throw new RequestError(401, 'missing or wrong API key (GATEWAY_API_KEYS)');
      const refusal = config.apiKeys.length === 0 ? keylessRefusal(req.headers) : null;
      if (refusal !== null) throw new RequestError(403, refusal);
      if (route === 'GET /models') return models(res);
      if (route === 'GET /metrics') return metrics(res);
      if (route === 'POST /chat/completions') return serveApi(openAiChat, req, res, route);
      if (route === 'POST /messages') return serveApi(anthropicMessages, req, res, route);
      if (route === 'POST /responses') return serveApi(openAiResponses, req, res, route);
      if (route === 'POST /chat') return serveChat(req, res, route);
      if (storedId !== undefined) return storedResponse(req, res, storedId);
      throw new RequestError(404, `no route ${req.method} ${path}`);
    })().catch((error: unknown) => {
      const status = error instanceof RequestError ? error.status : 500;
      if (status === 500) logger.error({ err: error, route }, 'gateway request failed');
      deps.metrics.request(route, status, 0);
      sendJson(res, status, api.error(status, error instanceof Error ? error.message : String(error)));
    });
  });
  return { server, stats: () => deps.metrics.snapshot() };
}
