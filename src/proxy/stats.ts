import type { LiveLimits, ProviderStats } from '../common/index.js';

// Per-provider counters behind RunningProxy.stats() (shown by the chat `/stats` command).

export interface ProviderCounters extends ProviderStats {
  /** Upstream stream lines or chunks that made no sense (skipped; the answer went on). */
  malformedChunks: number;
}

export interface StatsBook {
  of(provider: string): ProviderCounters;
  snapshot(liveOf?: (provider: string) => LiveLimits | undefined): { providers: ProviderCounters[] };
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
          fallbacks: 0,
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
