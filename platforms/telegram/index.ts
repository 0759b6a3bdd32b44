import { deferredPlatform } from '../deferred-platform.js';
import type { MessagingPlatform } from '../platform.js';
import type { PlatformModule } from '../platform-module.js';
import type { TelegramPlatformOptions } from './adapter.js';
import { TELEGRAM_COMMANDS } from './commands.js';
import { readTelegramConfig, type TelegramConfig } from './config.js';
import { telegramHtml } from './dialect.js';
import { TELEGRAM_MAX_LENGTH } from './limits.js';

// Telegram's entry: the module the registry lists, and what tests and the relay may use of this folder. Nothing
// here loads grammY: the adapter is imported when a Telegram platform is built (a token is set).

/** The Telegram platform; grammY is loaded now, in the background. */
export function createTelegramPlatform(options: TelegramPlatformOptions): MessagingPlatform {
  return deferredPlatform(
    { name: 'telegram', limits: { dialect: telegramHtml, maxLength: TELEGRAM_MAX_LENGTH } },
    async () => (await import('./adapter.js')).createTelegramPlatform(options),
  );
}

export const telegramModule: PlatformModule<TelegramConfig> = {
  id: 'telegram',
  label: 'Telegram',
  selectedBy: ['TELEGRAM_BOT_TOKEN'],
  dialect: telegramHtml,
  commands: TELEGRAM_COMMANDS.map(({ command, description }) => ({ name: command, description })),
  readConfig: readTelegramConfig,
  secrets: (config) => [config.token],
  create: (config, deps) => createTelegramPlatform({ config, logger: deps.logger }),
};

export { TELEGRAM_COMMANDS } from './commands.js';
export type { TelegramConfig } from './config.js';
export { telegramHtml } from './dialect.js';
export { TELEGRAM_MAX_LENGTH } from './limits.js';
