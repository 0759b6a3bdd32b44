// Telegram's entry: what the rest of the relay may use of this folder.

export { createTelegramPlatform } from './adapter.js';
export { TELEGRAM_COMMANDS } from './commands.js';
export { telegramHtml } from './dialect.js';
export { TELEGRAM_MAX_LENGTH } from './transport.js';
