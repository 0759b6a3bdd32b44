import type { Logger } from 'pino';
import type { NodeSnapshot, SessionEngine } from '../sessions/index.js';
import type { GatewayStatsSnapshot, ProxyStatsSnapshot, Transcriber } from '../src/common/index.js';
import type { Env, MessagingConfig } from '../src/config.js';
import { createController } from './controller.js';
import { discordModule } from './discord/index.js';
import type { HttpRoutes, MessagingPlatform } from './platform.js';
import { type ConfiguredPlatform, configured, type RegisteredPlatform, register } from './platform-module.js';
import { telegramModule } from './telegram/index.js';
import { webModule } from './web/index.js';

// The platforms' public entry: the registry of chat platforms, and building every configured one over the one
// engine and starting them.

import type { ChatStats } from './controller.js';

export type { ChatStats, Controller, ControllerOptions } from './controller.js';
export { createController } from './controller.js';
export {
  createDiscordPlatform,
  DISCORD_COMMANDS,
  DISCORD_MAX_LENGTH,
  discordMarkdown,
  discordModule,
} from './discord/index.js';
export type { OutboxStats } from './outbox/index.js';
export { sumOutboxStats } from './outbox/index.js';
export type {
  CommandName,
  HttpRoutes,
  Incoming,
  IncomingAudio,
  IncomingFile,
  IncomingHandler,
  MessagingPlatform,
} from './platform.js';
export {
  type ConfiguredPlatform,
  configured,
  type MenuCommand,
  type PlatformDeps,
  type PlatformModule,
  type RegisteredPlatform,
  register,
} from './platform-module.js';
export { PlatformRefusedError } from './start-errors.js';
export {
  createTelegramPlatform,
  TELEGRAM_COMMANDS,
  TELEGRAM_MAX_LENGTH,
  telegramHtml,
  telegramModule,
} from './telegram/index.js';
export { createWebPlatform, WEB_MAX_LENGTH, type WebConfig, webHtml, webModule } from './web/index.js';

/**
 * Every chat platform the relay knows, and the only list of them: config, log scrubbing and start-up read it.
 * The order is MESSAGING_PLATFORM's list of choices and the order platforms are selected, read and built in.
 */
export const PLATFORMS: readonly RegisteredPlatform[] = [register(discordModule), register(telegramModule)];

/**
 * The web console, when WEB_CONSOLE leaves it on (the default): a platform like the chats, but not one
 * MESSAGING_PLATFORM chooses, so it runs beside whichever chats run, or alone. Throws ConfigError for a bad value.
 */
export function webConsole(env: Env): ConfiguredPlatform | null {
  const config = webModule.readConfig(env);
  return config.enabled ? configured(webModule, config) : null;
}

/** The messaging config as loadConfig makes it from the registry. */
export type PlatformsConfig = MessagingConfig<ConfiguredPlatform>;

/** What must never reach the log of the platforms that run: each one's module says what in its config. */
export function platformSecrets(config: PlatformsConfig): string[] {
  return config.configured.flatMap((platform) => platform.secrets);
}

export interface StartPlatformsOptions {
  config: PlatformsConfig;
  engine: SessionEngine;
  transcriber: Transcriber;
  voiceEnabled: boolean;
  proxyStats: () => ProxyStatsSnapshot;
  /** The API gateway's requests for /stats (main.ts: null while it is off). */
  gatewayStats?: () => GatewayStatsSnapshot | null;
  logger: Logger;
  /** How often "typing…" is renewed while a chat has a running task. */
  typingIntervalMs?: number;
  /**
   * The sessions' working directory (`config.sessions.workspace`): photos and files sent with a task are saved
   * under its `attachments/`. Without it, attachments are explained as unsupported.
   */
  workspace?: string;
  /** Per attachment; 20 MB (what Telegram bots can download) unless given. */
  attachmentMaxBytes?: number;
  /** The projects a chat may switch to with `/project`; the first is the default. */
  projects?: ReadonlyArray<{ name: string; path: string }>;
}

export interface RunningPlatforms {
  /** Per chat: what its outbox sent, edited, waited out and retried so far. */
  chatStats(): ChatStats[];
  /** The pages platforms serve on the relay's port (the web console's). */
  http(): HttpRoutes[];
  /** Stops listening on every platform (started or still waiting for its network), then delivers what is owed. */
  stop(): Promise<void>;
}

export interface Platforms extends RunningPlatforms {
  /**
   * Starts the engine (unless the caller did and passes what it found), then every platform side by side (one waiting for its network must not hold up the
   * other); each platform's chats hear of their interrupted tasks as soon as it is up. Rejects with
   * PlatformRefusedError when a platform refuses the bot; resolves quietly when `stop()` came first.
   */
  start(engineStarted?: { interrupted: NodeSnapshot[] }): Promise<void>;
}

/** The platforms over the one engine, built but not started, so their stop can be registered before a long start. */
export function createPlatforms(options: StartPlatformsOptions): Platforms {
  const { config, logger } = options;
  const conversations = { list: () => options.engine.nodes(), subscribe: options.engine.subscribe };
  const platforms: MessagingPlatform[] = config.configured.map((platform) =>
    platform.create({ logger: logger.child({ platform: platform.id }), conversations }),
  );
  const controller = createController({
    engine: options.engine,
    transcriber: options.transcriber,
    voiceEnabled: options.voiceEnabled,
    proxyStats: options.proxyStats,
    ...(options.gatewayStats === undefined ? {} : { gatewayStats: options.gatewayStats }),
    rate: config.rateLimit,
    logger,
    ...(options.typingIntervalMs === undefined ? {} : { typingIntervalMs: options.typingIntervalMs }),
    ...(options.workspace === undefined ? {} : { workspace: options.workspace }),
    ...(options.attachmentMaxBytes === undefined ? {} : { attachmentMaxBytes: options.attachmentMaxBytes }),
    ...(options.projects === undefined ? {} : { projects: options.projects }),
  });
  for (const platform of platforms) controller.attach(platform);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    // Stop listening first, then deliver what is already owed.
    stopping ??= (async () => {
      await Promise.allSettled(platforms.map((platform) => platform.stop()));
      await controller.close();
    })();
    return stopping;
  };

  return {
    chatStats: () => controller.chatStats(),
    http: () => platforms.flatMap((platform) => (platform.http === undefined ? [] : [platform.http])),
    stop,
    async start(engineStarted) {
      // The composition root may have started the engine already (the API gateway shares it).
      const { interrupted } = engineStarted ?? (await options.engine.start());
      const started: string[] = [];
      try {
        await Promise.all(
          platforms.map(async (platform) => {
            await platform.start((incoming) => controller.handle(incoming));
            started.push(platform.name);
            await controller.announceInterrupted(
              interrupted.filter((node) => node.messages[0]?.ref.platform === platform.name),
            );
          }),
        );
      } catch (error) {
        if (stopping !== null) return; // a shutdown ended the wait; its stop does the rest
        // A platform refused the bot: the relay does not start half-configured.
        await stop();
        throw error;
      }
      logger.info({ platforms: started, interrupted: interrupted.length }, 'messaging started');
    },
  };
}

export async function startPlatforms(options: StartPlatformsOptions): Promise<RunningPlatforms> {
  const platforms = createPlatforms(options);
  await platforms.start();
  return platforms;
}
