import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Client,
  type ClientOptions,
  DiscordjsError,
  DiscordjsErrorCodes,
  Events,
  GatewayIntentBits,
  Partials,
} from 'discord.js';
import type { Logger } from 'pino';
import {
  createOutageLog,
  describeNetworkError,
  isTransient,
  PlatformRefusedError,
  startRetryDelayMs,
} from '../start-errors.js';
import type { DiscordConfig } from './config.js';
import type { Inbound } from './inbound.js';

// The gateway connection: a client wired to our inbound handlers, and the login that waits out an outage.
// discord.js would silently wait out 429s inside its REST queue, hiding them from our outbox's per-chat
// pacing; `rejectOnRateLimit` makes it throw instead, and the outbox waits the time Discord asked for.

/**
 * discord.js's REST sends through its own undici 6, whose `request` hands a file upload's FormData to the
 * process-wide dispatcher as it is. The relay also loads undici 7 (the proxy), and whichever loads first installs
 * that dispatcher: undici 7's cannot read undici 6's FormData, so every upload failed ("action is not a
 * function") and was retried until it gave up. Node's own fetch serialises the body itself first.
 */
const globalFetch: NonNullable<ClientOptions['rest']>['makeRequest'] = async (url, init) => {
  try {
    // The two undici versions' RequestInit types differ in name only for what discord.js passes.
    return await fetch(url, init as RequestInit);
  } catch (error) {
    // discord.js retries a reset connection by the error's own `code`; Node's fetch puts that on its `cause`.
    const code = error instanceof Error && (error.cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') Object.assign(error as Error, { code });
    throw error;
  }
};

/** A fresh client per login attempt: discord.js destroys a client whose login failed, for good. */
export function createDiscordClient(config: DiscordConfig, logger: Logger, inbound: Inbound): Client {
  const made = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
    ],
    // A DM channel is never cached before its first message arrives: without this, discord.js drops it.
    partials: [Partials.Channel],
    rest: { api: config.apiBase, rejectOnRateLimit: () => true, retries: 1, makeRequest: globalFetch },
  });
  made.rest.setToken(config.token);
  made.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
  // Fired only when discord.js will not reconnect (token reset, intents revoked …): the bot is deaf until a
  // restart, so the log must say so plainly.
  made.on(Events.ShardDisconnect, (event) =>
    logger.error(
      { code: event.code },
      `discord closed the connection for good (close code ${event.code}); check DISCORD_BOT_TOKEN and the bot's intents, then restart the relay`,
    ),
  );
  made.on(Events.MessageCreate, (message) => inbound.onMessage(message));
  made.on(Events.InteractionCreate, (interaction) => inbound.onInteraction(interaction));
  return made;
}

export interface LoginOptions {
  config: DiscordConfig;
  logger: Logger;
  /** A stop while waiting (for the network, or for the gateway to identify) ends the login. */
  signal: AbortSignal;
  /** Makes the client for one attempt; the caller keeps it (its stop destroys the current one). */
  newClient(): Client;
}

/**
 * Logs in until the gateway is ready: a refused token or intent ends it with PlatformRefusedError, an outage is
 * retried with backoff and logged once (and once more when it is over). Resolves with the ready client.
 */
export async function logIn(options: LoginOptions): Promise<Client> {
  const { config, logger, signal } = options;
  const outage = createOutageLog(
    (message) => logger.warn(message),
    (message) => logger.info(message),
  );
  for (let attempt = 1; ; attempt++) {
    const client = options.newClient();
    const ready = once(client, Events.ClientReady, { signal });
    ready.catch(() => {}); // a failed attempt leaves it pending; a later stop must not make it unhandled
    try {
      await client.login(config.token);
      await ready;
    } catch (error) {
      const refused = refusal(error);
      if (refused !== null) throw new PlatformRefusedError(refused);
      if (!isTransient(error)) throw error;
      const delayMs = startRetryDelayMs(attempt);
      outage.failed(
        `cannot reach Discord at ${config.apiBase} (${describeNetworkError(error)}); retrying in ${delayMs / 1000} s`,
      );
      await sleep(delayMs, undefined, { signal });
      continue;
    }
    signal.throwIfAborted();
    outage.recovered('Discord reachable');
    return client;
  }
}

/** What Discord said when it refused the bot for good (never worth retrying), or null. */
function refusal(error: unknown): string | null {
  if (error instanceof DiscordjsError && error.code === DiscordjsErrorCodes.TokenInvalid) {
    return 'Discord refused DISCORD_BOT_TOKEN (401 Unauthorized): copy the bot token from the Developer Portal (Bot → Reset Token)';
  }
  const message = error instanceof Error ? error.message : '';
  if (/disallowed intents/i.test(message)) {
    return 'Discord refused the Message Content intent: turn it on in the Developer Portal (Bot → Privileged Gateway Intents)';
  }
  return null;
}
