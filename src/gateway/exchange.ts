import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MessageRef } from '../../sessions/index.js';
import { str } from '../common/index.js';
import type { GatewayConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Answer, AnswerStream, Api, ApiRequest } from './api.js';
import { type Continuation, type Conversation, promptOf } from './conversation.js';
import { RequestError, sendJson } from './http.js';
import type { ConversationMemory } from './memory.js';
import type { GatewayMetrics } from './metrics.js';
import type { GatewayRunner, RunEvent } from './runner.js';

// One API request from its parsed form to its answer: checked, placed in its conversation, run through the shared
// engine, answered whole or streamed in the API's own shape, then remembered, counted and logged.

const KEEP_ALIVE_MS = 15_000;
/** What the engine takes as one prompt (it refuses more). */
const MAX_PROMPT_CHARS = 900_000;
/** One argument to the CLI (`--append-system-prompt`): Linux refuses a single argument over 128 KiB. */
const MAX_SYSTEM_CHARS = 100_000;
const TIERS = ['opus', 'sonnet', 'haiku'] as const;
const PRIORITIES = ['high', 'normal', 'low'] as const;

/** `claude-sonnet-4.5`, `claude-opus-4-5-20251101`, `sonnet` → the tier; anything else: the CLI's default. */
export function tierOf(model: string): (typeof TIERS)[number] | undefined {
  const lower = model.toLowerCase();
  return TIERS.find((tier) => lower.includes(tier));
}

/** What `/v1/models` lists: each tier by its name, then the short aliases (any name holding a tier works too). */
export const MODEL_IDS = [...TIERS.map((tier) => `claude-${tier}`), ...TIERS];

export interface ExchangeDeps {
  config: GatewayConfig;
  runner: GatewayRunner;
  memory: ConversationMemory;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** A request with what `/chat` may add: its own priority and time limit. */
export type ExchangeRequest = ApiRequest & { priority?: string; timeoutMs?: number; scope: string };

/** A request's own mistakes are a 400 or 413 before a session is taken, never a 503 to be retried. */
function checkRequest(request: ExchangeRequest): void {
  const last = request.conversation.turns.at(-1);
  if ((last?.text ?? '').trim() === '' && !last?.images?.length)
    throw new RequestError(400, 'the last user message is empty');
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
    throw new RequestError(400, `timeoutMs must be a whole number of milliseconds, got ${request.timeoutMs}`);
  }
}

function priorityOf(req: IncomingMessage, fallback?: string): (typeof PRIORITIES)[number] {
  const raw = (req.headers['x-priority'] ?? fallback ?? 'normal').toString().toLowerCase();
  const priority = PRIORITIES.find((candidate) => candidate === raw);
  if (priority === undefined)
    throw new RequestError(400, `X-Priority must be high, normal or low, got '${raw}'`);
  return priority;
}

/** Where the request continues: the answer `previous_response_id` names, else what its history says. */
function continuation(
  memory: ConversationMemory,
  request: ExchangeRequest,
  conversation: Conversation,
  sessionId: string | undefined,
): Continuation<MessageRef> {
  if (request.previousResponseId === undefined) return memory.continueFrom(conversation, sessionId);
  const parent = memory.byResponse(request.scope, request.previousResponseId);
  if (parent === undefined) {
    throw new RequestError(
      404,
      `no response with id '${request.previousResponseId}' is known to this gateway`,
    );
  }
  return { parent, ...promptOf(conversation.turns) };
}

export async function exchange(
  deps: ExchangeDeps,
  api: Api,
  request: ExchangeRequest,
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
): Promise<void> {
  const { config, memory, metrics, logger } = deps;
  checkRequest(request);
  const conversation = { ...request.conversation, scope: request.scope };
  const {
    parent,
    prompt: words,
    images,
  } = continuation(memory, request, conversation, str(req.headers['x-session-id']));
  // A picture sent without words is still a task: the engine takes no empty prompt.
  const prompt = words.trim() === '' && images.length > 0 ? '(image attached)' : words;
  const priority = priorityOf(req, request.priority);
  const tier = tierOf(request.model);
  const maxTurns = request.maxTurns ?? config.maxTurns;
  const started = Date.now();
  const createdAt = Math.floor(started / 1000);
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const id = `${api.idPrefix}_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
  let stream: AnswerStream | null = null;
  let keepAlive: NodeJS.Timeout | undefined;
  let narration = '';
  const startStream = (conversationId: string): AnswerStream => {
    if (stream === null) {
      res.setHeader('x-session-id', conversationId);
      stream = api.stream(res, { id, model: request.model, includeUsage: request.includeUsage, createdAt });
      keepAlive = setInterval(() => stream?.keepAlive(), KEEP_ALIVE_MS);
    }
    return stream;
  };
  const finish = (status: number, fields: object): void => {
    metrics.request(route, status, (Date.now() - started) / 1000);
    logger.info({ route, status, ms: Date.now() - started, ...fields }, 'gateway request');
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
        const remembered = {
          text: event.text,
          wholeHistory: request.previousResponseId === undefined,
          ...(api.idPrefix === 'resp' ? { responseId: id } : {}),
        };
        memory.remember(conversation, remembered, event.ref, event.treeId);
        const answer: Answer = {
          id,
          createdAt,
          model: request.model,
          text: event.text,
          narration,
          usage: event.usage,
          stopReason: event.stopReason,
          sessionId: event.treeId,
        };
        if (request.store === true) memory.store(request.scope, id, api.answer(answer));
        if (request.stream) startStream(event.treeId).done(event.usage, event.stopReason);
        else sendJson(res, 200, api.answer(answer), { 'x-session-id': event.treeId });
        metrics.tokens(event.usage);
        finish(200, {
          tokens: event.usage,
          ...(event.stopReason === 'end_turn' ? {} : { stop: event.stopReason }),
        });
        return;
      }
      case 'failed':
        if (stream) stream.fail(event.status, event.message);
        else if (event.status !== 499) {
          const headers: Record<string, string> = event.status === 503 ? { 'retry-after': '5' } : {};
          sendJson(res, event.status, api.error(event.status, event.message), headers);
        }
        finish(event.status, { reason: event.message });
        return;
    }
  };
  try {
    await deps.runner.run(
      {
        prompt,
        parent,
        run: {
          ...(tier === undefined ? {} : { model: tier }),
          ...(conversation.system ? { appendSystemPrompt: conversation.system } : {}),
          ...(maxTurns === undefined ? {} : { maxTurns }),
          ...(images.length === 0 ? {} : { images }),
        },
        priority,
        ...(config.workspace === undefined ? {} : { workspace: config.workspace }),
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
