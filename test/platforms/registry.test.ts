import { afterEach, describe, expect, it } from 'vitest';
import {
  createPlatforms,
  discordMarkdown,
  type MessagingPlatform,
  PLATFORMS,
  type PlatformDeps,
  type PlatformModule,
  platformSecrets,
  register,
} from '../../platforms/index.js';
import { ConfigError, type Env, idList, loadConfig, required } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createHarness } from '../sessions/harness.js';

// The registry is the only list of chat platforms. A platform that exists only in a test registry (a tiny fake
// module) is offered by MESSAGING_PLATFORM, selected by its variable, reads and checks its own config, has its
// token scrubbed from the log and is built and started by start-up: no other edit is needed.

const cwd = '/srv/relay';
const SECRET = 'echo-token-0123456789';

interface EchoConfig {
  token: string;
  rooms: string[];
}

/** What the fake platform saw: the config and logger it was built with, and whether it was started. */
const built: Array<{ config: EchoConfig; started: boolean }> = [];

function echoPlatform(config: EchoConfig, deps: PlatformDeps): MessagingPlatform {
  const record = { config, started: false };
  built.push(record);
  deps.logger.info(`echo built with ${config.token}`);
  return {
    name: 'echo',
    limits: { dialect: discordMarkdown, maxLength: 2000 },
    isAllowed: (chatId) => config.rooms.includes(chatId),
    botName: () => 'echo',
    start: async () => {
      record.started = true;
    },
    stop: async () => {},
    sendTyping: async () => {},
    send: async () => ({ messageId: '1' }),
    edit: async () => {},
    delete: async () => {},
  };
}

const echoModule: PlatformModule<EchoConfig> = {
  id: 'echo',
  label: 'Echo',
  selectedBy: ['ECHO_TOKEN'],
  dialect: discordMarkdown,
  commands: [{ name: 'stop', description: 'Stop everything' }],
  readConfig: (env: Env) => ({
    token: required(env, 'ECHO_TOKEN', 'for the echo bot'),
    rooms: idList(env, 'ECHO_ROOMS'),
  }),
  secrets: (config) => [config.token],
  create: echoPlatform,
};

const registry = [register(echoModule)];

function configError(env: Env): ConfigError {
  try {
    loadConfig(env, cwd, registry);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  built.length = 0;
});

describe('a platform in the registry, and nowhere else', () => {
  it('is selected by its variable and reads its own config', () => {
    const config = loadConfig({ ECHO_TOKEN: SECRET, ECHO_ROOMS: '7,8' }, cwd, registry);
    expect(config.messaging.platforms).toEqual(['echo']);
    expect(config.messaging.configured.map((platform) => platform.id)).toEqual(['echo']);
    expect(loadConfig({}, cwd, registry).messaging.platforms).toEqual([]);
  });

  it('is what MESSAGING_PLATFORM offers, and its own checks name its variables', () => {
    expect(configError({ MESSAGING_PLATFORM: 'discord' }).message).toBe(
      "MESSAGING_PLATFORM: must be echo or none, got 'discord'",
    );
    expect(configError({ MESSAGING_PLATFORM: 'echo' }).message).toBe(
      'ECHO_TOKEN: is required because MESSAGING_PLATFORM includes echo',
    );
    expect(configError({ ECHO_TOKEN: SECRET, ECHO_ROOMS: '7,x' }).variable).toBe('ECHO_ROOMS');
  });

  it('has its token scrubbed from the log', () => {
    const config = loadConfig({ ECHO_TOKEN: SECRET }, cwd, registry);
    const lines: string[] = [];
    const logger = createLogger('info', platformSecrets(config.messaging), { write: (l) => lines.push(l) });
    logger.info({ url: `https://echo.example/bot${SECRET}/send` }, `calling with ${SECRET}`);
    expect(lines.join('')).not.toContain(SECRET);
    expect(lines.join('')).toContain('[redacted]');
  });

  it('is built with its config and started by start-up', async () => {
    const config = loadConfig({ ECHO_TOKEN: SECRET, ECHO_ROOMS: '7' }, cwd, registry);
    const h = createHarness();
    cleanups.push(() => h.cleanup());
    const lines: string[] = [];
    const platforms = createPlatforms({
      config: config.messaging,
      engine: h.engine,
      transcriber: {
        maxBytes: 1024,
        transcribe: async () => ({ ok: false, kind: 'disabled', message: 'voice notes are off' }),
      },
      voiceEnabled: false,
      proxyStats: () => ({ providers: [] }),
      logger: createLogger('info', platformSecrets(config.messaging), { write: (l) => lines.push(l) }),
    });
    cleanups.push(() => platforms.stop());
    await platforms.start();
    expect(built).toEqual([{ config: { token: SECRET, rooms: ['7'] }, started: true }]);
    const entries = lines.map((line) => JSON.parse(line) as { msg: string; platform?: string });
    expect(entries.find((entry) => entry.msg.startsWith('echo built'))).toMatchObject({
      msg: 'echo built with [redacted]',
      platform: 'echo',
    });
  });

  it('sits beside Discord and Telegram in the real registry, each selected by its token', () => {
    expect(PLATFORMS.map((platform) => [platform.id, platform.selectedBy])).toEqual([
      ['discord', ['DISCORD_BOT_TOKEN']],
      ['telegram', ['TELEGRAM_BOT_TOKEN']],
    ]);
  });
});
