import type { ServerResponse } from 'node:http';
import type { Agent } from 'undici';
import type { Clock } from '../common/index.js';
import type { ProviderSettings, ProxyConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { ProviderDescriptor } from '../providers.js';
import type { Json } from './anthropic-types.js';
import { echoesRequestedModel } from './cli-compat.js';
import type { ProviderExchange } from './exchange.js';
import { watchWaits } from './fallback.js';
import { type OpenAiPathDeps, viaOpenAiChat } from './openai-path.js';
import { type PassThroughDeps, passThrough } from './pass-through.js';
import { enterReporting, type ProviderWait, waitReporter } from './provider-waits.js';
import type { RateLimiter } from './rate-limiter.js';
import { tierOf } from './routing.js';
import type { StatsBook } from './stats.js';
import type { ToolsMemo } from './tools-memo.js';
import { callUpstream, type UpstreamWait } from './upstream.js';

// One provider's try at a request (messages.ts decides the order and what follows a failure): a slot under the
// provider's limits, the waits reported and timed for PROVIDER_FALLBACK_AFTER, the exchange the protocol's path
// sends through, and what the provider taught this run (models that refused images, output ceilings they named).

export interface Route {
  provider: ProviderDescriptor;
  settings: ProviderSettings;
  model: string;
}

export const routeName = (route: Route): string => `${route.provider.id}/${route.model}`;

export interface ProviderAttemptDeps {
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

export type ProviderAttempt = (
  request: Json,
  requested: string,
  rawBytes: number,
  res: ServerResponse,
  client: { relayNode?: string | undefined; userAgent?: string | undefined },
  route: Route,
  limits: { signal: AbortSignal; giveUp?: () => void },
) => Promise<number | null>;

export function createProviderAttempt(deps: ProviderAttemptDeps): ProviderAttempt {
  const { config, logger } = deps;
  const passThroughDeps: PassThroughDeps = { logger };
  const openAiDeps: OpenAiPathDeps = {
    logger,
    tools: deps.tools,
    newId: deps.newId,
    pingIntervalMs: deps.pingIntervalMs,
  };
  /** provider/model of the models that refused images (openai-path.ts); few, so never pruned. */
  const blind = new Set<string>();
  /** provider/model → the largest `max_tokens` it said it allows (openai-path.ts); few, so never pruned. */
  const ceilings = new Map<string, number>();

  /**
   * One provider's try at the request; throws what it failed with (messages.ts decides what follows).
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

  return attempt;
}
