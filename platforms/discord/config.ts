import { type Env, idList, required, url } from '../../src/config.js';

export interface DiscordConfig {
  token: string;
  /** Channels the bot answers in; none means it answers nobody. */
  allowedChannels: string[];
  /** Users it answers there; none means everyone in those channels. */
  allowedUsers: string[];
  apiBase: string;
}

export function readDiscordConfig(env: Env): DiscordConfig {
  return {
    token: required(env, 'DISCORD_BOT_TOKEN', 'for the Discord bot'),
    allowedChannels: idList(env, 'ALLOWED_DISCORD_CHANNELS'),
    allowedUsers: idList(env, 'ALLOWED_DISCORD_USERS'),
    apiBase: url(env, 'DISCORD_API_BASE', 'https://discord.com/api'),
  };
}
