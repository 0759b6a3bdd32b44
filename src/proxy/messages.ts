import type { ServerResponse } from 'node:http';
import type { Agent } from 'undici';
import type { Clock } from '../common/index.js';
import type { ProviderSettings, ProxyConfig } from '../config.js';
import type { Logger } from '../log.js';
import { PROVIDERS, type ProviderDescriptor } from '../providers.js';
import { type Json, records } from './anthropic-types.js';
import { echoesRequestedModel } from './cli-compat.js';
import { ProxyError } from './errors.js';
import type { ProviderExchange } from './exchange.js';
import { fallbackCause, WaitedTooLong, watchWaits } from './fallback.js';
import { type OpenAiPathDeps, viaOpenAiChat } from './openai-path.js';
import { type PassThroughDeps, passThrough } from './pass-through.js';
import { enterReporting, type ProviderWait, waitReporter } from './provider-waits.js';
import type { RateLimiter } from './rate-limiter.js';
import { SSE_HEADERS, sendJson } from './responses.js';
import { routeChain, tierOf } from './routing.js';
import { detectShortcut } from './shortcuts.js';
import { toSse } from './sse-writer.js';
import type { StatsBook } from './stats.js';
import { reduceMessage } from './stream-contract.js';
import { createStreamTranslator } from './stream-translator.js';
import { conversationOf, createToolCallHealth, MALFORMED_IN_A_ROW } from './tool-call-health.js';
import type { ToolsMemo } from './tools-memo.js';
import { callUpstream, type UpstreamWait } from './upstream.js';

// POST /v1/messages, the deciding part: answer a shortcut locally, or route the model to its provider, check
// the key, wait for a slot and hand the request to the path the provider's protocol takes (openai-path.ts or
// pass-through.ts), each with only what it needs.

export interface MessagesDeps {
  config: ProxyConfig;
  logger: Logger;
  agent: Agent;
  clock: Clock;
  limiterFor(provider: string): RateLimiter;
  stats: StatsBook;
  /** Parses, converts and encodes the CLI's repeated tools array once (see tools-memo.ts). */
  tools: ToolsMemo;
  newId(prefix: string): string;
  pingIntervalMs: number;
  /** Hears why a relay session's request waits (provider-waits.ts). */
  onProviderWait?(wait: ProviderWait): void;
}

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

interface Route {
  provider: ProviderDescriptor;
  settings: ProviderSettings;
  model: string;
}

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

const routeName = (route: Route) => `${route.provider.id}/${route.model}`;

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
  const passThroughDeps: PassThroughDeps = { logger };
  const openAiDeps: OpenAiPathDeps = {
    logger,
    tools: deps.tools,
    newId: deps.newId,
    pingIntervalMs: deps.pingIntervalMs,
  };
  const health = createToolCallHealth();
  /** provider/model of the models that refused images (openai-path.ts); few, so never pruned. */
  const blind = new Set<string>();
  /** provider/model → the largest `max_tokens` it said it allows (openai-path.ts); few, so never pruned. */
  const ceilings = new Map<string, number>();

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

  /**
   * One provider's try at the request; throws what it failed with (the loop above decides what follows).
   * Resolves to the malformed tool calls of a whole translated answer, null when there is no such verdict.
   */
  async function attempt(
    request: Json,
    requested: string,
    rawBytes: number,
    res: ServerResponse,
    client: { relayNode?: string | undefined; userAgent?: string | undefined },
    { provider, settings, model }: Route,
    limits: { signal: AbortSignal; giveUp?: () => void },
  ): Promise<number | null> {
    const stats = deps.stats.of(provider.id);
    stats.requests++;
    const limiter = deps.limiterFor(provider.id);
    const reporter = waitReporter(deps.onProviderWait, client.relayNode, provider);
    const watch = limits.giveUp === undefined ? null : watchWaits(config.fallbackAfterMs, limits.giveUp);
    const onWait =
      watch === null
        ? reporter
        : (wait: UpstreamWait): void => {
            watch.onWait(wait);
            reporter?.(wait);
          };
    const { signal } = limits;
    const release = await enterReporting(limiter, signal, onWait).finally(() => {
      if (signal.aborted) watch?.stop();
    });
    const name = routeName({ provider, settings, model });
    const learned = ceilings.get(name);
    const configured = config.maxOutputTokens[tierOf(requested)];
    try {
      const exchange: ProviderExchange = {
        provider,
        fields: settings.requestFields,
        userFields: settings.userFields,
        seesImages: !blind.has(name),
        refusedImages: () => blind.add(name),
        maxOutputTokens:
          learned === undefined || configured === undefined
            ? (learned ?? configured)
            : Math.min(learned, configured),
        learnedOutputCeiling: (tokens) => ceilings.set(name, tokens),
        model,
        answeredAs: echoesRequestedModel(client.userAgent) ? requested : model,
        stats,
        signal,
        async send(body, recoverable) {
          try {
            const response = await callUpstream(
              {
                provider,
                settings,
                body,
                signal,
                limiter,
                onRateLimited: () => stats.rateLimited++,
                ...(onWait === undefined ? {} : { onWait }),
              },
              deps.agent,
              deps.clock,
              config.timeouts.writeMs,
            );
            watch?.stop(); // the answer began: no more waiting to time
            return response;
          } catch (error) {
            if (recoverable?.(error) === true) throw error; // sent again at once, still timed
            stats.errors++;
            watch?.stop();
            throw error;
          }
        },
      };
      // A passed-through answer is not read, so only translated providers are benched for broken calls.
      if (settings.protocol === 'anthropic-messages') {
        await passThrough(request, exchange, res, passThroughDeps);
        return null;
      }
      return await viaOpenAiChat(request, rawBytes, exchange, res, openAiDeps);
    } finally {
      watch?.stop();
      release();
    }
  }
}
