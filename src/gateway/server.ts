import { createHash, randomUUID } from 'node:crypto';
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
/** What the engine takes as one prompt (it refuses more). */
const MAX_PROMPT_CHARS = 900_000;
/** One argument to the CLI (`--append-system-prompt`): Linux refuses a single argument over 128 KiB. */
const MAX_SYSTEM_CHARS = 100_000;
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
    // The official SDKs retry 5xx by themselves; a failed agentic run repeated would repeat its edits.
    ...(NOT_TO_RETRY.has(status) ? { 'x-should-retry': 'false' } : {}),
    // An unread body (too large) is not drained: the connection goes.
    ...(status === 413 ? { connection: 'close' } : {}),
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
  const rememberLatest = (key: string, ref: MessageRef): void => {
    latest.delete(key);
    latest.set(key, ref);
    // Bounded like the conversation index: the oldest conversation is forgotten first.
    if (latest.size > 10_000) {
      const oldest = latest.keys().next().value;
      if (oldest !== undefined) latest.delete(oldest);
    }
  };

  /** Which key a request came with, as an opaque tag (never the key itself). */
  const scopeOf = (req: IncomingMessage): string =>
    createHash('sha256')
      .update(presentedKey(req.headers) ?? '')
      .digest('hex')
      .slice(0, 16);

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
    checkRequest(request);
    const started = Date.now();
    request.conversation.scope = scopeOf(req);
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
          rememberLatest(`${request.conversation.scope}:${event.treeId}`, event.ref);
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
          // A client may ask for less time than GATEWAY_TIMEOUT, never for more.
          runTimeoutMs: Math.min(request.timeoutMs ?? config.runTimeoutMs, config.runTimeoutMs),
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
    if (found.parent !== null || !sessionId) return found;
    // A history never seen, in a conversation the client names: continue its latest answer with the new message.
    // An id the gateway does not know (from before a restart, or another program's header) starts afresh.
    const named = latest.get(`${conversation.scope}:${sessionId}`);
    if (named === undefined || engine.findNodeByMessage(named) === undefined) return found;
    return { parent: named, prompt: conversation.turns.at(-1)?.text ?? '' };
  }

  /** A request's own mistakes are a 400 or 413 before a session is taken, never a 503 to be retried. */
  function checkRequest(request: ApiRequest & { timeoutMs?: number }): void {
    const last = request.conversation.turns.at(-1)?.text ?? '';
    if (last.trim() === '') throw new RequestError(400, 'the last user message is empty');
    const size = request.conversation.turns.reduce((sum, turn) => sum + turn.text.length, 0);
    if (size > MAX_PROMPT_CHARS) {
      throw new RequestError(413, `the conversation is longer than ${MAX_PROMPT_CHARS} characters`);
    }
    if (request.conversation.system.length > MAX_SYSTEM_CHARS) {
      throw new RequestError(413, `the system prompt is longer than ${MAX_SYSTEM_CHARS} characters`);
    }
    if (request.maxTurns !== undefined && !(Number.isInteger(request.maxTurns) && request.maxTurns >= 1)) {
      throw new RequestError(400, `maxTurns must be a whole number of at least 1, got ${request.maxTurns}`);
    }
    if (request.timeoutMs !== undefined && !(Number.isInteger(request.timeoutMs) && request.timeoutMs >= 1)) {
      throw new RequestError(
        400,
        `timeoutMs must be a whole number of milliseconds, got ${request.timeoutMs}`,
      );
    }
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
