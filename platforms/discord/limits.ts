import { discordSlashCommands } from '../commands/index.js';
import type { CommandName } from '../platform.js';

// What the registry and the relay need to know of Discord before (or without) loading discord.js.

export const DISCORD_MAX_LENGTH = 2000;

export const DISCORD_COMMANDS: Array<{ name: CommandName; description: string }> = discordSlashCommands();
