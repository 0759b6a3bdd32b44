import type { Api } from 'grammy';
import type { Logger } from 'pino';

// Telegram's command menu: what it offers, and setting it only when it changed (setting it on every start is
// what gets bots throttled).

export const TELEGRAM_COMMANDS = [
  { command: 'stop', description: 'Stop all tasks, or the one you reply to' },
  { command: 'clear', description: 'Forget all conversations, or the branch you reply to' },
  { command: 'stats', description: 'Sessions, conversations, provider usage' },
  { command: 'help', description: 'How to use this bot' },
];

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
