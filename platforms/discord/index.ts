import type { PlatformModule } from '../platform-module.js';
import { createDiscordPlatform } from './adapter.js';
import { DISCORD_COMMANDS } from './commands.js';
import { type DiscordConfig, readDiscordConfig } from './config.js';
import { discordMarkdown } from './dialect.js';

// Discord's entry: the module the registry lists, and what tests and the relay may use of this folder.

export const discordModule: PlatformModule<DiscordConfig> = {
  id: 'discord',
  label: 'Discord',
  selectedBy: ['DISCORD_BOT_TOKEN'],
  dialect: discordMarkdown,
  commands: DISCORD_COMMANDS,
  readConfig: readDiscordConfig,
  secrets: (config) => [config.token],
  create: (config, deps) => createDiscordPlatform({ config, logger: deps.logger }),
};

export { createDiscordPlatform } from './adapter.js';
export { DISCORD_COMMANDS } from './commands.js';
export type { DiscordConfig } from './config.js';
export { discordMarkdown } from './dialect.js';
export { DISCORD_MAX_LENGTH } from './transport.js';
