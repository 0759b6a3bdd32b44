import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { Json } from './anthropic-types.js';
import type { ProviderExchange } from './exchange.js';

// A provider speaking the Messages API (the `anthropic` one): the request goes out as it came (model routed),
// the answer comes back byte for byte; still rate-limited, counted and logged.

export interface PassThroughDeps {
  logger: Logger;
}

export async function passThrough(
  request: Json,
  exchange: ProviderExchange,
  res: ServerResponse,
  deps: PassThroughDeps,
): Promise<void> {
  const upstream = await exchange.send(JSON.stringify({ ...request, model: exchange.model }));
  res.writeHead(upstream.status, {
    'content-type': upstream.contentType || 'application/json',
    'cache-control': 'no-cache',
  });
  try {
    for await (const chunk of upstream.body) res.write(chunk);
  } catch (error) {
    exchange.stats.errors++;
    deps.logger.warn({ err: error }, 'pass-through stream broke');
    res.destroy(); // the client sees a dropped stream and retries
    return;
  }
  res.end();
}
