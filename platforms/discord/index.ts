import { deferredPlatform } from '../deferred-platform.js';
import type { MessagingPlatform } from '../platform.js';
import type { PlatformModule } from '../platform-module.js';
import type { DiscordPlatformOptions } from './adapter.js';
import { type DiscordConfig, readDiscordConfig } from './config.js';
import { discordMarkdown } from './dialect.js';
import { DISCORD_COMMANDS, DISCORD_MAX_LENGTH } from './limits.js';

// Discord's entry: the module the registry lists, and what tests and the relay may use of this folder. Nothing
// here loads discord.js: the adapter is imported when a Discord platform is built (a token is set).

/** The Discord platform; discord.js is loaded now, in the background. */
export function createDiscordPlatform(options: DiscordPlatformOptions): MessagingPlatform {
  return deferredPlatform(
    { name: 'discord', limits: { dialect: discordMarkdown, maxLength: DISCORD_MAX_LENGTH } },
    async () => (await import('./adapter.js')).createDiscordPlatform(options),
  );
}

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

export type { DiscordConfig } from './config.js';
export { discordMarkdown } from './dialect.js';
export { DISCORD_COMMANDS, DISCORD_MAX_LENGTH } from './limits.js';
