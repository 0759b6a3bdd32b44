import type { SlashCommandOptions } from './spec.js';
import { type CommandName, commandList } from './table.js';

// The command lists each platform registers, read from the table.

export interface TelegramMenuEntry {
  command: string;
  description: string;
}

/** Telegram's command menu (setMyCommands), in the table's order. */
export function telegramMenu(): TelegramMenuEntry[] {
  return commandList().flatMap(({ name, menu }) =>
    menu === null ? [] : [{ command: name, description: menu }],
  );
}

export type SlashCommandDefinition = { name: CommandName } & SlashCommandOptions;

/** Discord's slash commands (application commands of type 1 once sent), in the table's order. */
export function discordSlashCommands(): SlashCommandDefinition[] {
  return commandList().flatMap(({ name, slash }) => (slash === null ? [] : [{ name, ...slash }]));
}
