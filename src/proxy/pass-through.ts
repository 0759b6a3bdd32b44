import type { ServerResponse } from 'node:http';
import type { ProviderSettings } from '../config.js';
import type { ProviderDescriptor } from '../providers.js';
import type { Json } from './anthropic-types.js';
import type { MessagesDeps } from './messages.js';
import type { WaitReporter } from './provider-waits.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ProviderCounters } from './stats.js';
import { callUpstream } from './upstream.js';

// The `anthropic` provider: the request goes out as it came (model routed), the answer comes back byte for
// byte; still rate-limited, counted and logged.

export async function passThrough(args: {
  request: Json;
  model: string;
  provider: ProviderDescriptor;
  settings: ProviderSettings;
  res: ServerResponse;
  signal: AbortSignal;
  limiter: RateLimiter;
  onWait: WaitReporter | undefined;
  deps: MessagesDeps;
  stats: ProviderCounters;
}): Promise<void> {
  const { res, stats } = args;
  let upstream: Awaited<ReturnType<typeof callUpstream>>;
  try {
    upstream = await callUpstream(
      {
        provider: args.provider,
        settings: args.settings,
        body: JSON.stringify({ ...args.request, model: args.model }),
        signal: args.signal,
        limiter: args.limiter,
        onRateLimited: () => stats.rateLimited++,
        onWait: args.onWait,
      },
      args.deps.agent,
      args.deps.clock,
      args.deps.config.timeouts.writeMs,
    );
  } catch (error) {
    stats.errors++;
    throw error;
  }
  res.writeHead(upstream.status, {
    'content-type': upstream.contentType || 'application/json',
    'cache-control': 'no-cache',
  });
  try {
    for await (const chunk of upstream.body) res.write(chunk);
  } catch (error) {
    stats.errors++;
    args.deps.logger.warn({ err: error }, 'pass-through stream broke');
    res.destroy(); // the client sees a dropped stream and retries
    return;
  }
  res.end();
}
