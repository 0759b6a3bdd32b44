import type { SessionEngine } from '../../sessions/index.js';
import type { GatewayStatsSnapshot } from '../common/index.js';
import type { GatewayConfig } from '../config.js';
import type { Logger } from '../log.js';
import { createGatewayServer } from './server.js';

// The API gateway's public entry: Claude Code sessions of the shared engine behind the OpenAI and Anthropic APIs.

export { tierOf } from './exchange.js';
export { GATEWAY_PLATFORM } from './runner.js';

export interface RunningGateway {
  url: string;
  /** Its requests for the chat /stats. */
  stats(): GatewayStatsSnapshot;
  close(): Promise<void>;
}

export async function startGateway(options: {
  config: GatewayConfig;
  host: string;
  engine: SessionEngine;
  logger: Logger;
}): Promise<RunningGateway> {
  const { server, stats } = createGatewayServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.config.port, options.host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('gateway server has no TCP address');
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
