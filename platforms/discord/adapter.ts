import type { Client } from 'discord.js';
import type { Logger } from 'pino';
import type { IncomingHandler, MessagingPlatform } from '../platform.js';
import { syncDiscordCommands } from './commands.js';
import type { DiscordConfig } from './config.js';
import { createDiscordClient, logIn } from './connect.js';
import { discordMarkdown } from './dialect.js';
import { createInbound, DM_SCOPE } from './inbound.js';
import { createDiscordTransport, DISCORD_MAX_LENGTH } from './transport.js';

// Discord through discord.js: the gateway for incoming messages and slash commands (connect.ts, inbound.ts),
// REST for everything we send (transport.ts). This file holds them together and owns start and stop.

export interface DiscordPlatformOptions {
  config: DiscordConfig;
  logger: Logger;
}

export function createDiscordPlatform(options: DiscordPlatformOptions): MessagingPlatform {
  const { config, logger } = options;
  const channels = new Set(config.allowedChannels);
  const users = new Set(config.allowedUsers);
  // A thread is allowed where its channel is; a direct message only to users named in ALLOWED_DISCORD_USERS.
  const isAllowed = (scope: string, userId: string): boolean =>
    scope === DM_SCOPE ? users.has(userId) : channels.has(scope) && (users.size === 0 || users.has(userId));
  // Installed on every client (a start may retry its login, and a platform may be restarted); `deliver` is the
  // current start's handler.
  let deliver: IncomingHandler = () => {};
  let stopping = new AbortController();
  const inbound = createInbound({ isAllowed, logger, deliver: (incoming) => deliver(incoming) });
  const newClient = (): Client => createDiscordClient(config, logger, inbound);
  // Replaced at each login attempt; REST works before the first login, and after stop.
  let client = newClient();

  return {
    name: 'discord',
    limits: { dialect: discordMarkdown, maxLength: DISCORD_MAX_LENGTH },
    isAllowed,
    botName: () => client.user?.username ?? null,
    ...createDiscordTransport(() => client.rest),

    async start(onIncoming: IncomingHandler) {
      if (channels.size === 0) {
        logger.warn('ALLOWED_DISCORD_CHANNELS is empty: the Discord bot will answer nobody');
      }
      deliver = onIncoming;
      stopping = new AbortController();
      const { signal } = stopping;
      await logIn({
        config,
        logger,
        signal,
        newClient: () => {
          client = newClient();
          return client;
        },
      });
      const applicationId = client.application?.id;
      if (applicationId) {
        // Commands are a convenience: failing to register them must not keep the bot from working.
        await syncDiscordCommands(client.rest, applicationId, logger).catch((error: unknown) =>
          logger.warn({ err: error }, 'discord slash commands not registered; typed commands still work'),
        );
      }
      logger.info({ bot: client.user?.username }, 'discord connected');
    },

    async stop() {
      stopping.abort(new Error('discord platform stopping'));
      deliver = () => {};
      await client.destroy();
      // destroy() also drops the REST token; what is already owed (final answers) still goes out over REST
      // after the gateway is closed, as it does on Telegram once polling stopped.
      client.rest.setToken(config.token);
    },
  };
}
