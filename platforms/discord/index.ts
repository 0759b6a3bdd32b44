// Discord's entry: what the rest of the relay may use of this folder.

export { createDiscordPlatform, DISCORD_COMMANDS, DISCORD_MAX_LENGTH } from './adapter.js';
export { discordMarkdown } from './dialect.js';
