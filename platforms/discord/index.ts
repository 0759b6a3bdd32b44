// Discord's entry: what the rest of the relay may use of this folder.

export { createDiscordPlatform } from './adapter.js';
export { DISCORD_COMMANDS } from './commands.js';
export { discordMarkdown } from './dialect.js';
export { DISCORD_MAX_LENGTH } from './transport.js';
