import { Bot } from 'grammy';
import type { Logger } from 'pino';
import type { IncomingHandler, MessagingPlatform } from '../platform.js';
import { syncTelegramCommands } from './commands.js';
import type { TelegramConfig } from './config.js';
import { introduce, logOutages, poll } from './connect.js';
import { telegramHtml } from './dialect.js';
import { installInbound } from './inbound.js';
import { createTelegramTransport, TELEGRAM_MAX_LENGTH } from './transport.js';

// Telegram through grammy: long polling in (connect.ts, inbound.ts), HTML parse mode out (transport.ts), and
// every Bot API failure turned into a ChatApiError. grammy has no built-in retry (auto-retry is a plugin we do
// not install), so 429s reach the outbox. This file holds the parts together and owns start and stop.

export interface TelegramPlatformOptions {
  config: TelegramConfig;
  logger: Logger;
  /** Seconds a getUpdates call waits for news; Telegram allows up to 50. */
  pollingTimeoutSeconds?: number;
  /** After polling gave up (409: another program polls this bot; 401), how long until it polls again. */
  pollingRetryMs?: number;
}

export function createTelegramPlatform(options: TelegramPlatformOptions): MessagingPlatform {
  const { config, logger } = options;
  const bot = new Bot(config.token, { client: { apiRoot: config.apiRoot } });
  const allowed = new Set(config.allowedUserIds);
  const isAllowed = (_chatId: string, userId: string): boolean => allowed.has(userId);
  let polling: Promise<void> | null = null;
  let starting = new AbortController();
  // The current start's handler; the update handlers are installed once and read it.
  let onMessage: IncomingHandler = () => {};
  logOutages(bot, config, logger);
  const albums = installInbound(bot, {
    config,
    logger,
    isAllowed,
    deliver: (incoming) => onMessage(incoming),
  });

  return {
    name: 'telegram',
    limits: { dialect: telegramHtml, maxLength: TELEGRAM_MAX_LENGTH },
    isAllowed,
    botName: () => (bot.isInited() ? bot.botInfo.username : null),
    ...createTelegramTransport(bot.api),

    async start(onIncoming: IncomingHandler) {
      if (allowed.size === 0) {
        logger.warn('ALLOWED_TELEGRAM_USER_ID is empty: the Telegram bot will answer nobody');
      }
      starting = new AbortController();
      const { signal } = starting;
      if (!bot.isInited()) await introduce(bot, config, signal);
      // Commands are a convenience: failing to register them must not keep the bot from working.
      await syncTelegramCommands(bot.api, logger).catch((error: unknown) =>
        logger.warn({ err: error }, 'telegram commands not registered; typed commands still work'),
      );
      signal.throwIfAborted();
      onMessage = onIncoming;
      await new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        polling = poll(bot, logger, signal, {
          timeoutSeconds: options.pollingTimeoutSeconds ?? 30,
          retryMs: options.pollingRetryMs ?? 30_000,
          onPolling: resolve,
        });
      });
      logger.info({ bot: bot.botInfo.username }, 'telegram connected');
    },

    async stop() {
      starting.abort(new Error('telegram platform stopping'));
      if (bot.isRunning()) await bot.stop();
      await polling;
      polling = null;
      albums.flush();
    },
  };
}
