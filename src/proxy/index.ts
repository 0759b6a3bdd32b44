import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { type Clock, systemClock } from '../common/index.js';
import type { ProxyConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { ProviderWait } from './provider-waits.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';
import { createProxyServer, type MountedRoutes } from './server.js';
import { createStatsBook, type ProviderCounters } from './stats.js';
import { createToolsMemo } from './tools-memo.js';
import { createUpstreamAgent } from './upstream.js';

// The embedded Anthropic → OpenAI proxy. `src/main.ts` starts it; tests and benches do too.

export type { AnthropicEvent, AnthropicMessage } from './anthropic-types.js';
export { type ProviderWait, RELAY_NODE_HEADER } from './provider-waits.js';
export type { MountedRoutes } from './server.js';
export {
  assertAnthropicStream,
  parseAnthropicSse,
  reduceMessage,
  StreamContractError,
} from './stream-contract.js';

export interface RunningProxy {
  /** The address the socket is bound to, as the OS reports it (`127.0.0.1`, `0.0.0.0` …). */
  boundAddress: string;
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  port: number;
  stats(): { providers: ProviderCounters[] };
  /** Stops listening and ends open streams. */
  close(): Promise<void>;
}

export async function startProxy(options: {
  config: ProxyConfig;
  logger: Logger;
  /** How long the upstream may stay silent before a ping goes out (tests shorten it). */
  pingIntervalMs?: number;
  /** Time for rate limits and retry waits (tests pass a faster one; production uses the real clock). */
  clock?: Clock;
  /** Why a relay session's request is held (a 429 waited out, the rate window, all slots busy). */
  onProviderWait?: (wait: ProviderWait) => void;
  /** Pages another part of the relay serves on this port (the web console); the proxy's routes are untouched. */
  mounted?: MountedRoutes;
}): Promise<RunningProxy> {
  const { config, logger } = options;
  const agent = createUpstreamAgent(config.timeouts);
  const stats = createStatsBook();
  const limiters = new Map<string, RateLimiter>();
  const server = createProxyServer(
    config,
    logger,
    {
      config,
      logger,
      agent,
      clock: options.clock ?? systemClock,
      stats,
      tools: createToolsMemo(),
      pingIntervalMs: options.pingIntervalMs ?? 10_000,
      onProviderWait: options.onProviderWait,
      newId: (prefix) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      limiterFor(provider) {
        let limiter = limiters.get(provider);
        if (!limiter) {
          limiter = createRateLimiter(config.rateLimit, options.clock ?? systemClock);
          limiters.set(provider, limiter);
        }
        return limiter;
      },
    },
    options.mounted,
  );
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0; // streams may legitimately last long; upstream timeouts bound them instead
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  // A server listening on host and port always reports an AddressInfo (a string only for a pipe or socket path).
  if (address === null || typeof address === 'string') {
    server.close();
    throw new Error('proxy server has no TCP address');
  }
  const { port, address: boundAddress } = address;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    boundAddress,
    stats: () => stats.snapshot((provider) => limiters.get(provider)?.now()),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await agent.close();
    },
  };
}
