import type { ServerResponse } from 'node:http';
import type { ProxyConfig } from '../config.js';
import { PROVIDERS } from '../providers.js';
import { type Json, records } from './anthropic-types.js';
import { ProxyError } from './errors.js';
import { fallbackCause, WaitedTooLong } from './fallback.js';
import {
  createProviderAttempt,
  type ProviderAttemptDeps,
  type Route,
  routeName,
} from './provider-attempt.js';
import { waitReporter } from './provider-waits.js';
import { SSE_HEADERS, sendJson } from './responses.js';
import { routeChain } from './routing.js';
import { detectShortcut } from './shortcuts.js';
import { toSse } from './sse-writer.js';
import { reduceMessage } from './stream-contract.js';
import { createStreamTranslator } from './stream-translator.js';
import { conversationOf, createToolCallHealth, MALFORMED_IN_A_ROW } from './tool-call-health.js';

// POST /v1/messages, the deciding part: answer a shortcut locally, or route the model to its provider, check
// the key, wait for a slot and hand the request to the path the provider's protocol takes (openai-path.ts or
// pass-through.ts), each with only what it needs.

/** What the handler needs is what one provider's try needs (provider-attempt.ts); the routing adds nothing. */
export type MessagesDeps = ProviderAttemptDeps;

/**
 * Handles one request; `client.relayNode` is the relay session that sent it, when one did (provider-waits.ts),
 * `client.userAgent` tells which CLI it is (cli-compat.ts).
 */
export type MessagesHandler = (
  request: Json,
  rawBytes: number,
  res: ServerResponse,
  client?: { relayNode?: string | undefined; userAgent?: string | undefined },
) => Promise<void>;

/**
 * The providers and models a request may go to, in order: its tier's model, then the tier's fallbacks. The first
 * is refused here when its provider cannot work without a key; a fallback without one is left out (the start-up
 * log warned about it).
 */
function routesFor(config: ProxyConfig, requested: string): Route[] {
  const routes: Route[] = [];
  for (const ref of routeChain(config, requested)) {
    const provider = PROVIDERS[ref.provider];
    const settings = config.providers[ref.provider];
    if (provider.key?.required && !settings.apiKey) {
      if (routes.length > 0) continue;
      throw new ProxyError(
        'client_request',
        400,
        'invalid_request_error',
        `${provider.key.variable} is not set: add it to .env (provider ${provider.id}).`,
      );
    }
    routes.push({ provider, settings, model: ref.model || requested });
  }
  return routes;
}

/** The status line's words for a model benched after malformed tool calls (tool-call-health.ts). */
export const MALFORMED_CAUSE = 'sending malformed tool calls twice';

function answerLocally(
  res: ServerResponse,
  stream: boolean,
  text: string,
  model: string,
  newId: (prefix: string) => string,
): void {
  const translator = createStreamTranslator({
    messageId: newId('msg'),
    model,
    inputTokens: 10,
    newToolId: () => newId('toolu'),
  });
  const events = [
    ...translator.start(),
    ...translator.push({ reasoning: '', content: text, toolCalls: [] }),
    ...translator.end(),
  ];
  if (stream) {
    res.writeHead(200, SSE_HEADERS);
    res.end(toSse(events));
  } else sendJson(res, 200, JSON.stringify(reduceMessage(events)));
}

export function createMessagesHandler(deps: MessagesDeps): MessagesHandler {
  const { config, logger } = deps;
  const health = createToolCallHealth();
  const attempt = createProviderAttempt(deps);

  /** Tells the log, /stats and the session's status line that `route` hands the request to `next`. */
  function fallBack(route: Route, next: Route, cause: string, requested: string, relayNode?: string): void {
    deps.stats.of(route.provider.id).fallbacks++;
    const nextName = `${next.provider.label} ${next.model || requested}`;
    logger.warn(
      { from: route.provider.id, to: next.provider.id, cause },
      `provider ${cause}: answering with ${nextName}`,
    );
    waitReporter(
      deps.onProviderWait,
      relayNode,
      route.provider,
    )?.({
      reason: 'fallback',
      delayMs: null,
      attempt: null,
      maxRetries: null,
      fallback: { cause, next: nextName },
    });
  }

  return async (request, rawBytes, res, client = {}) => {
    if (typeof request.model !== 'string' || records(request.messages).length === 0) {
      throw new ProxyError(
        'client_request',
        400,
        'invalid_request_error',
        'model (string) and a non-empty messages array are required',
      );
    }
    const shortcut = detectShortcut(request, config.shortcuts);
    if (shortcut) {
      logger.debug({ shortcut: shortcut.kind }, 'answered locally');
      answerLocally(res, request.stream === true, shortcut.text, request.model, deps.newId);
      return;
    }
    const conversation = conversationOf(request);
    const routes = routesFor(config, request.model);
    // Models benched in this conversation are passed over, anywhere in the chain, while another remains (the
    // last one always answers).
    for (let index = 0; index < routes.length - 1; ) {
      const route = routes[index];
      const next = routes[index + 1];
      if (route === undefined || next === undefined || !health.benched(conversation, routeName(route))) {
        index++;
        continue;
      }
      if (index === 0) fallBack(route, next, MALFORMED_CAUSE, request.model, client.relayNode);
      routes.splice(index, 1);
    }
    const clientGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) clientGone.abort(new Error('client disconnected'));
    });
    for (const [index, route] of routes.entries()) {
      const next = routes[index + 1];
      const giveUp = new AbortController();
      try {
        const malformed = await attempt(request, request.model, rawBytes, res, client, route, {
          signal:
            next === undefined ? clientGone.signal : AbortSignal.any([clientGone.signal, giveUp.signal]),
          // Only a request that has somewhere else to go stops waiting.
          ...(next === undefined
            ? {}
            : { giveUp: () => giveUp.abort(new WaitedTooLong(config.fallbackAfterMs / 1000)) }),
        });
        if (malformed !== null && health.record(conversation, routeName(route), malformed > 0)) {
          logger.warn(
            { provider: route.provider.id, model: route.model },
            `malformed tool calls ${MALFORMED_IN_A_ROW} times in a row: this conversation's next requests skip it`,
          );
        }
        return;
      } catch (error) {
        const cause =
          next === undefined || res.headersSent || clientGone.signal.aborted
            ? null
            : giveUp.signal.aborted
              ? `rate limited or busy for ${config.fallbackAfterMs / 1000} s`
              : fallbackCause(error);
        if (cause === null || next === undefined) throw error;
        fallBack(route, next, cause, request.model, client.relayNode);
      }
    }
  };
}
