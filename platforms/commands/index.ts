// The chat commands' door: the table, what is generated from it, and the dispatch.

export { commandUsage, runCommand } from './dispatch.js';
export {
  discordSlashCommands,
  type SlashCommandDefinition,
  type TelegramMenuEntry,
  telegramMenu,
} from './menus.js';
export { parseTextCommand, type TextCommand } from './parse.js';
export type { CommandContext, CommandSpec, CommandTable, ProjectChoice, ProjectRef } from './spec.js';
export { COMMANDS, type CommandName, commandList, helpText } from './table.js';
