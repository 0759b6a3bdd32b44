import type { LimiterState } from './rate-limiter.js';

// Per-provider counters behind RunningProxy.stats() (shown by the chat `/stats` command).

export interface ProviderCounters {
  provider: string;
  requests: number;
  errors: number;
  rateLimited: number;
  inputTokens: number;
  outputTokens: number;
  /** Upstream stream lines or chunks that made no sense (skipped; the answer went on). */
  malformedChunks: number;
  /** The provider's rate limits as they stand now (absent before its first request). */
  live?: LimiterState;
}

export interface StatsBook {
  of(provider: string): ProviderCounters;
  snapshot(liveOf?: (provider: string) => LimiterState | undefined): { providers: ProviderCounters[] };
}

export function createStatsBook(): StatsBook {
  const book = new Map<string, ProviderCounters>();
  return {
    of(provider) {
      let counters = book.get(provider);
      if (!counters) {
        counters = {
          provider,
          requests: 0,
          errors: 0,
          rateLimited: 0,
          inputTokens: 0,
          outputTokens: 0,
          malformedChunks: 0,
        };
        book.set(provider, counters);
      }
      return counters;
    },
    snapshot: (liveOf) => ({
      providers: [...book.values()].map((counters) => {
        const live = liveOf?.(counters.provider);
        return live === undefined ? { ...counters } : { ...counters, live };
      }),
    }),
  };
}
