// Telegram's entry: what the rest of the relay may use of this folder.

export { createTelegramPlatform, TELEGRAM_COMMANDS, TELEGRAM_MAX_LENGTH } from './adapter.js';
export { telegramHtml } from './dialect.js';
