import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { MessageRef, SessionEngine } from '../../sessions/index.js';
import { isRecord, num, presentedKey, sameSecret, str } from '../common/index.js';
import type { GatewayConfig } from '../config.js';
import type { Logger } from '../log.js';
import { anthropicMessages } from './anthropic-messages.js';
import type { Answer, AnswerStream, Api, ApiRequest } from './api.js';
import { type Conversation, continuationOf, createConversationIndex } from './conversation.js';
import { createGatewayMetrics } from './metrics.js';
import { openAiChat } from './openai-chat.js';
import { createGatewayRunner, type RunEvent } from './runner.js';

// The gateway's HTTP edge: routes (each also without /v1), keys, the body limit, and the one place a run's
// events become an answer of the API that was asked, whole or streamed.

const KEEP_ALIVE_MS = 15_000;
const TIERS = ['opus', 'sonnet', 'haiku'] as const;
const PRIORITIES = ['high', 'normal', 'low'] as const;
const KNOWN_ROUTES = new Set([
  'POST /chat/completions',
  'POST /messages',
  'POST /chat',
  'GET /models',
  'GET /health',
  'GET /metrics',
]);

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `claude-sonnet-4.5`, `claude-opus-4-5-20251101`, `sonnet` → the tier; anything else: the CLI's default. */
export function tierOf(model: string): (typeof TIERS)[number] | undefined {
  const lower = model.toLowerCase();
  return TIERS.find((tier) => lower.includes(tier));
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new RequestError(413, `the body is larger than ${limit} bytes (GATEWAY_MAX_BODY_BYTES)`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new RequestError(413, `the body is larger than ${limit} bytes (GATEWAY_MAX_BODY_BYTES)`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(
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
    ...headers,
  });
  res.end(text);
}

export interface GatewayServerOptions {
  config: GatewayConfig;
  engine: SessionEngine;
  logger: Logger;
}

export function createGatewayServer(options: GatewayServerOptions): {
  server: Server;
  counts(): { active: number; queued: number };
} {
  const { config, engine, logger } = options;
  const runner = createGatewayRunner(engine, { queueMax: config.queueMax });
  const metrics = createGatewayMetrics(() => runner.counts());
  const remembered = createConversationIndex<MessageRef>();
  /** The latest answer of each conversation, for `X-Session-Id` with a history the gateway has not seen. */
  const latest = new Map<string, MessageRef>();

  const authorised = (req: IncomingMessage): boolean =>
    config.apiKeys.length === 0 || config.apiKeys.some((key) => sameSecret(key, presentedKey(req.headers)));

  async function serveApi(api: Api, req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const body = await readJson(req);
    const parsed = api.parse(body);
    if (!parsed.ok) throw new RequestError(400, parsed.message);
    await runRequest(api, parsed.request, req, res, route);
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const raw = await readBody(req, config.maxBodyBytes);
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new RequestError(400, 'the body is not valid JSON');
    }
  }

  function priorityOf(req: IncomingMessage, fallback?: string): (typeof PRIORITIES)[number] {
    const raw = (req.headers['x-priority'] ?? fallback ?? 'normal').toString().toLowerCase();
    const priority = PRIORITIES.find((candidate) => candidate === raw);
    if (priority === undefined)
      throw new RequestError(400, `X-Priority must be high, normal or low, got '${raw}'`);
    return priority;
  }

  async function runRequest(
    api: Api,
    request: ApiRequest & { priority?: string; timeoutMs?: number },
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
  ): Promise<void> {
    const started = Date.now();
    const sessionHeader = str(req.headers['x-session-id']);
    const { parent, prompt } = continueFrom(request.conversation, sessionHeader);
    const tier = tierOf(request.model);
    const maxTurns = request.maxTurns ?? config.maxTurns;
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const id = `${api === openAiChat ? 'chatcmpl' : 'msg'}_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    let stream: AnswerStream | null = null;
    let keepAlive: NodeJS.Timeout | undefined;
    let narration = '';
    const startStream = (treeId: string): AnswerStream => {
      if (stream === null) {
        res.setHeader('x-session-id', treeId);
        stream = api.stream(res, { id, model: request.model, includeUsage: request.includeUsage });
        keepAlive = setInterval(() => stream?.keepAlive(), KEEP_ALIVE_MS);
      }
      return stream;
    };
    const onEvent = (event: RunEvent): void => {
      switch (event.type) {
        case 'started':
          if (request.stream) startStream(event.treeId);
          return;
        case 'narration':
          narration += narration ? `\n\n${event.text}` : event.text;
          if (request.stream && stream) stream.narration(event.text);
          return;
        case 'text':
          if (request.stream && stream) stream.text(event.text);
          return;
        case 'done': {
          remembered.remember(request.conversation, event.text, event.ref);
          latest.set(event.treeId, event.ref);
          const answer: Answer = {
            id,
            model: request.model,
            text: event.text,
            narration,
            usage: event.usage,
            sessionId: event.treeId,
          };
          if (request.stream) startStream(event.treeId).done(event.usage);
          else sendJson(res, 200, api.answer(answer), { 'x-session-id': event.treeId });
          metrics.request(route, 200, (Date.now() - started) / 1000);
          metrics.tokens(event.usage);
          logger.info(
            { route, status: 200, ms: Date.now() - started, tokens: event.usage },
            'gateway request',
          );
          return;
        }
        case 'failed':
          if (stream) stream.fail(event.status, event.message);
          else if (event.status !== 499) {
            const headers: Record<string, string> = event.status === 503 ? { 'retry-after': '5' } : {};
            sendJson(res, event.status, api.error(event.status, event.message), headers);
          }
          metrics.request(route, event.status, (Date.now() - started) / 1000);
          logger.info(
            { route, status: event.status, ms: Date.now() - started, reason: event.message },
            'gateway request',
          );
          return;
      }
    };
    try {
      await runner.run(
        {
          prompt,
          parent,
          run: {
            ...(tier === undefined ? {} : { model: tier }),
            ...(request.conversation.system ? { appendSystemPrompt: request.conversation.system } : {}),
            ...(maxTurns === undefined ? {} : { maxTurns }),
          },
          priority: priorityOf(req, request.priority),
          stream: config.stream,
          runTimeoutMs: request.timeoutMs ?? config.runTimeoutMs,
          queueTimeoutMs: config.queueTimeoutMs,
          signal: abort.signal,
        },
        onEvent,
      );
    } finally {
      clearInterval(keepAlive);
    }
  }

  function continueFrom(
    conversation: Conversation,
    sessionId: string | undefined,
  ): { parent: MessageRef | null; prompt: string } {
    const found = continuationOf(conversation, (key) => remembered.find(key));
    if (found.parent !== null || sessionId === undefined) return found;
    // A history never seen, in a conversation named by the client: continue its latest answer with the new message.
    const named = latest.get(sessionId);
    if (named === undefined) throw new RequestError(404, `no conversation with X-Session-Id ${sessionId}`);
    return { parent: named, prompt: conversation.turns.at(-1)?.text ?? '' };
  }

  async function serveChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    if (!isRecord(body) || typeof body.prompt !== 'string' || body.prompt.trim() === '') {
      throw new RequestError(400, '`prompt` must be a non-empty string');
    }
    const maxTurns = num(body.maxTurns);
    const timeoutMs = num(body.timeoutMs);
    const chatApi: Api = {
      parse: () => ({ ok: false, message: 'unused' }),
      answer: (answer) => ({
        text: answer.text,
        model: answer.model,
        inputTokens: answer.usage.inputTokens + answer.usage.cacheReadTokens,
        outputTokens: answer.usage.outputTokens,
        sessionId: answer.sessionId,
      }),
      stream: () => {
        throw new Error('/chat does not stream');
      },
      error: (_status, message) => ({ error: message }),
    };
    await runRequest(
      chatApi,
      {
        conversation: { system: str(body.systemPrompt) ?? '', turns: [{ role: 'user', text: body.prompt }] },
        model: str(body.model) ?? 'claude-sonnet',
        stream: false,
        includeUsage: false,
        ...(maxTurns === undefined ? {} : { maxTurns }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(typeof body.priority === 'string' ? { priority: body.priority } : {}),
      },
      req,
      res,
      'POST /chat',
    );
  }

  function models(): unknown {
    const created = Math.floor(Date.now() / 1000);
    return {
      object: 'list',
      data: TIERS.map((tier) => ({
        id: `claude-${tier}`,
        object: 'model',
        created,
        owned_by: 'claude-relay',
      })),
    };
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]?.replace(/^\/v1(?=\/)/, '') ?? '/';
    const api = path === '/chat/completions' ? openAiChat : anthropicMessages;
    // A label from a fixed set: unknown paths must not grow the metrics without bound.
    const route = KNOWN_ROUTES.has(`${req.method} ${path}`) ? `${req.method} ${path}` : 'other';
    (async () => {
      if (req.method === 'GET' && path === '/health') {
        const counts = runner.counts();
        return sendJson(res, 200, {
          ok: true,
          active: counts.active,
          queued: counts.queued,
          maxConcurrent: engine.stats().maxSessions,
          maxQueue: config.queueMax,
        });
      }
      if (!authorised(req)) throw new RequestError(401, 'missing or wrong API key (GATEWAY_API_KEYS)');
      if (req.method === 'GET' && path === '/models') return sendJson(res, 200, models());
      if (req.method === 'GET' && path === '/metrics') {
        const { body, contentType } = await metrics.render();
        res.writeHead(200, { 'content-type': contentType });
        res.end(body);
        return;
      }
      if (req.method === 'POST' && path === '/chat/completions') return serveApi(openAiChat, req, res, route);
      if (req.method === 'POST' && path === '/messages') return serveApi(anthropicMessages, req, res, route);
      if (req.method === 'POST' && path === '/chat') return serveChat(req, res);
      throw new RequestError(404, `no route ${req.method} ${path}`);
    })().catch((error: unknown) => {
      const status = error instanceof RequestError ? error.status : 500;
      if (status === 500) logger.error({ err: error, route }, 'gateway request failed');
      metrics.request(route, status, 0);
      const message = error instanceof Error ? error.message : String(error);
      if (path === '/chat') sendJson(res, status, { error: message });
      else sendJson(res, status, api.error(status, message));
    });
  });
  return { server, counts: () => runner.counts() };
}
