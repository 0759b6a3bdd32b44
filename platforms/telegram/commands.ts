import type { Api } from 'grammy';
import type { Logger } from 'pino';
import { telegramMenu } from '../commands/index.js';

// Telegram's command menu: what it offers, and setting it only when it changed (setting it on every start is
// what gets bots throttled).

export const TELEGRAM_COMMANDS = telegramMenu();

export async function syncTelegramCommands(api: Api, logger: Logger): Promise<void> {
  const current = await api.getMyCommands();
  const same =
    current.length === TELEGRAM_COMMANDS.length &&
    current.every(
      (command, index) =>
        command.command === TELEGRAM_COMMANDS[index]?.command &&
        command.description === TELEGRAM_COMMANDS[index]?.description,
    );
  if (same) return;
  await api.setMyCommands(TELEGRAM_COMMANDS);
  logger.info({ commands: TELEGRAM_COMMANDS.map((c) => c.command) }, 'telegram commands registered');
}
