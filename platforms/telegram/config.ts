import { type Env, idList, required, url } from '../../src/config.js';

export interface TelegramConfig {
  token: string;
  /** Users the bot answers; none means it answers nobody. */
  allowedUserIds: string[];
  apiRoot: string;
}

export function readTelegramConfig(env: Env): TelegramConfig {
  return {
    token: required(env, 'TELEGRAM_BOT_TOKEN', 'for the Telegram bot'),
    allowedUserIds: idList(env, 'ALLOWED_TELEGRAM_USER_ID'),
    apiRoot: url(env, 'TELEGRAM_API_ROOT', 'https://api.telegram.org'),
  };
}
