import { type REST, Routes } from 'discord.js';
import type { Logger } from 'pino';
import type { CommandName } from '../platform.js';
import { DISCORD_COMMANDS } from './limits.js';

// Discord's slash-command menu: what it offers, and registering it when it changed.

export { DISCORD_COMMANDS };

/** The menu entry a slash command names, or undefined for a command that is not ours (any more). */
export function menuCommand(commandName: string): CommandName | undefined {
  return DISCORD_COMMANDS.find((candidate) => candidate.name === commandName)?.name;
}

/** Registers the menu only when it differs from what Discord has: every start would be too often. */
export async function syncDiscordCommands(rest: REST, applicationId: string, logger: Logger): Promise<void> {
  const current: unknown = await rest.get(Routes.applicationCommands(applicationId));
  const existing = Array.isArray(current)
    ? current.map((command: unknown) => commandKey(command)).sort()
    : [];
  const wanted = DISCORD_COMMANDS.map((command) => commandKey(command)).sort();
  if (existing.join('\n') === wanted.join('\n')) return;
  await rest.put(Routes.applicationCommands(applicationId), {
    body: DISCORD_COMMANDS.map((command) => ({ ...command, type: 1 })),
  });
  logger.info({ commands: DISCORD_COMMANDS.map((c) => c.name) }, 'discord slash commands registered');
}

function commandKey(command: unknown): string {
  if (typeof command !== 'object' || command === null) return '';
  const name = 'name' in command ? String(command.name) : '';
  const description = 'description' in command ? String(command.description) : '';
  return `${name}\u0000${description}`;
}
