import type { PlatformModule } from '../platform-module.js';
import { createTelegramPlatform } from './adapter.js';
import { TELEGRAM_COMMANDS } from './commands.js';
import { readTelegramConfig, type TelegramConfig } from './config.js';
import { telegramHtml } from './dialect.js';

// Telegram's entry: the module the registry lists, and what tests and the relay may use of this folder.

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

export { createTelegramPlatform } from './adapter.js';
export { TELEGRAM_COMMANDS } from './commands.js';
export type { TelegramConfig } from './config.js';
export { telegramHtml } from './dialect.js';
export { TELEGRAM_MAX_LENGTH } from './transport.js';
