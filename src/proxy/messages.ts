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
import { type OpenAiPathDeps, viaOpenAiChat } from './openai-path.js';
import { type PassThroughDeps, passThrough } from './pass-through.js';
import { enterReporting, type ProviderWait, waitReporter } from './provider-waits.js';
import type { RateLimiter } from './rate-limiter.js';
import { SSE_HEADERS, sendJson } from './responses.js';
import { routeModel } from './routing.js';
import { detectShortcut } from './shortcuts.js';
import { toSse } from './sse-writer.js';
import type { StatsBook } from './stats.js';
import { reduceMessage } from './stream-contract.js';
import { createStreamTranslator } from './stream-translator.js';
import type { ToolsMemo } from './tools-memo.js';
import { callUpstream } from './upstream.js';

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

/** The provider and model a request goes to; refused here when that provider cannot work without a key. */
function routeRequest(config: ProxyConfig, requested: string): Route {
  const route = routeModel(config.models, requested);
  const provider = PROVIDERS[route.provider];
  const settings = config.providers[route.provider];
  if (provider.key?.required && !settings.apiKey) {
    throw new ProxyError(
      'client_request',
      400,
      'invalid_request_error',
      `${provider.key.variable} is not set: add it to .env (provider ${provider.id}).`,
    );
  }
  return { provider, settings, model: route.model || requested };
}

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

  return async (request, rawBytes, res, client = {}) => {
    const { relayNode } = client;
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
    const { provider, settings, model } = routeRequest(config, request.model);
    const stats = deps.stats.of(provider.id);
    stats.requests++;

    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new Error('client disconnected'));
    });
    const limiter = deps.limiterFor(provider.id);
    const onWait = waitReporter(deps.onProviderWait, relayNode, provider);
    const release = await enterReporting(limiter, abort.signal, onWait);
    try {
      const exchange: ProviderExchange = {
        provider,
        fields: settings.requestFields,
        model,
        answeredAs: echoesRequestedModel(client.userAgent) ? request.model : model,
        stats,
        signal: abort.signal,
        async send(body) {
          try {
            return await callUpstream(
              {
                provider,
                settings,
                body,
                signal: abort.signal,
                limiter,
                onRateLimited: () => stats.rateLimited++,
                onWait,
              },
              deps.agent,
              deps.clock,
              config.timeouts.writeMs,
            );
          } catch (error) {
            stats.errors++;
            throw error;
          }
        },
      };
      if (provider.protocol === 'anthropic-messages')
        await passThrough(request, exchange, res, passThroughDeps);
      else await viaOpenAiChat(request, rawBytes, exchange, res, openAiDeps);
    } finally {
      release();
    }
  };
}
