import { existsSync, mkdirSync } from 'node:fs';
import {
  type ConfiguredPlatform,
  createPlatforms,
  PLATFORMS,
  PlatformRefusedError,
  platformSecrets,
  webConsole,
} from '../platforms/index.js';
import type { SessionEngine } from '../sessions/index.js';
import { type Config, ConfigError, loadConfig, missingKeyWarnings } from './config.js';
import { readEnvironment } from './env-file.js';
import type { RunningGateway } from './gateway/index.js';
import { createLogger, createScrubber, type Logger, secretsInEnvironment } from './log.js';
import { PROVIDER_LIST } from './providers.js';
import { type MountedRoutes, RELAY_NODE_HEADER, startProxy } from './proxy/index.js';

// The composition root: the only place that reads config, constructs the parts, starts and stops them.

function secretsOf(config: Config<ConfiguredPlatform>): Array<string | undefined> {
  return [
    config.proxy.authToken,
    ...PROVIDER_LIST.map((provider) => config.proxy.providers[provider.id].apiKey),
    ...platformSecrets(config.messaging),
  ];
}

/**
 * Everything the relay prints outside the logger (a refused setting, a refused bot, a fatal error) goes through
 * here, so it is scrubbed like every log line: of the secrets the environment holds, even before the config is
 * read (a config error may echo a value), and of every URL's password.
 */
interface Say {
  (stream: NodeJS.WriteStream, text: string): void;
  /** Adds the configured secrets once the config is read. */
  learn(secrets: Array<string | undefined>): void;
}

function createSay(env: Readonly<Record<string, string | undefined>>): Say {
  const known: Array<string | undefined> = secretsInEnvironment(env);
  let scrub = createScrubber(known);
  const say: Say = Object.assign(
    (stream: NodeJS.WriteStream, text: string) => void stream.write(scrub(text)),
    {
      learn(secrets: Array<string | undefined>) {
        scrub = createScrubber([...known, ...secrets]);
      },
    },
  );
  return say;
}

async function run(say: Say, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  let config: Config<ConfiguredPlatform>;
  let web: ConfiguredPlatform | null;
  try {
    config = loadConfig(env, process.cwd(), PLATFORMS);
    web = webConsole(env);
    checkProjectFolders(config.sessions, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      say(process.stderr, `Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  say.learn(secretsOf(config));
  const logger = createLogger(
    config.logLevel,
    [...secretsInEnvironment(env), ...secretsOf(config)],
    undefined,
    {
      pretty: process.stdout.isTTY === true,
    },
  );
  warnAboutMissingKeys(config, logger);
  // Set once the sessions run; until then no request can carry a node's header.
  let engine: SessionEngine | undefined;
  // The console's pages are mounted before the platforms exist; they answer once the console is built.
  let pages: MountedRoutes | undefined;
  const proxy = await startProxy({
    config: config.proxy,
    logger: logger.child({ part: 'proxy' }),
    // Events back: the proxy tells the session whose request waits, the session tells its chat.
    onProviderWait: ({ nodeId, ...wait }) => engine?.reportProviderWait(nodeId, wait),
    ...(web === null
      ? {}
      : {
          mounted: {
            prefix: '/ui',
            handle: (req, res) =>
              pages ? pages.handle(req, res) : res.writeHead(503).end('the console is starting'),
          },
        }),
  });
  const model = config.proxy.models.default;
  logger.info(
    {
      url: proxy.url,
      bound: `${proxy.boundAddress}:${proxy.port}`,
      model: `${model.provider}/${model.model || '(as requested)'}`,
    },
    'proxy listening',
  );

  // Installed before the platforms start (one may wait long for its network): each part adds its stop when
  // it is up, and a signal stops whatever is up by then.
  const stops: Array<() => Promise<void>> = [() => proxy.close()];
  installShutdown(logger, stops);
  const bots = config.messaging.platforms.length > 0;
  const chats = bots || web !== null;
  if (!chats && config.gateway === undefined) {
    printProxyOnlyHelp(say, proxy.url, config);
    return;
  }
  mkdirSync(config.sessions.workspace, { recursive: true });
  // Loaded here, not at the top: a relay running the proxy alone never pays for the engine, voice or gateway.
  const { createSessionEngine } = await import('../sessions/index.js');
  const { createTranscriber } = await import('./voice/index.js');
  const gatewayModule = config.gateway === undefined ? undefined : await import('./gateway/index.js');
  const sessions = createSessionEngine({
    config: config.sessions,
    proxy: { url: proxy.url, authToken: config.proxy.authToken, nodeHeader: RELAY_NODE_HEADER },
    // The engine passes an allow-list of this (PATH, HOME, locale …) to the CLI, never the user's keys.
    inheritedEnv: process.env,
    logger: logger.child({ part: 'sessions' }),
    // New API conversations take a CLI started ahead of them (the CLI's own start-up is about half a second).
    ...(config.gateway?.prestart && gatewayModule
      ? { prestart: { count: config.gateway.prestart, platform: gatewayModule.GATEWAY_PLATFORM } }
      : {}),
    // Every turn of an API client's conversation is a fork: they go on in one directory, not a worktree each.
    ...(gatewayModule ? { sharedDirectoryOrigins: [gatewayModule.GATEWAY_PLATFORM] } : {}),
  });
  engine = sessions;
  stops.unshift(() => sessions.close());
  // Built (and listening to the engine) before it starts, so no event of a task requeued at start is missed.
  let gateway: RunningGateway | undefined;
  const platforms = chats
    ? createPlatforms({
        config: { ...config.messaging, configured: [...config.messaging.configured, ...(web ? [web] : [])] },
        engine: sessions,
        transcriber: createTranscriber(config.voice, logger.child({ part: 'voice' })),
        voiceEnabled: config.voice.enabled,
        // Photos and files sent with a task are saved here (under attachments/) for the session to read.
        workspace: config.sessions.workspace,
        ...(config.sessions.projects === undefined ? {} : { projects: config.sessions.projects }),
        proxyStats: () => proxy.stats(),
        gatewayStats: () => gateway?.stats() ?? null,
        logger: logger.child({ part: 'platforms' }),
      })
    : null;
  if (platforms !== null) stops.unshift(() => platforms.stop());
  pages = platforms?.http()[0];
  // One engine, one pool: chat tasks and API requests share MAX_CLI_SESSIONS (chat first).
  const started = await sessions.start();
  if (config.gateway !== undefined && gatewayModule !== undefined) {
    if (config.gateway.workspace !== undefined) mkdirSync(config.gateway.workspace, { recursive: true });
    const running = await gatewayModule.startGateway({
      config: config.gateway,
      host: config.proxy.host,
      engine: sessions,
      logger: logger.child({ part: 'gateway' }),
    });
    gateway = running;
    stops.unshift(() => running.close());
    logger.info({ url: running.url }, 'API gateway listening (OpenAI and Anthropic APIs)');
  }
  if (platforms === null) {
    printProxyOnlyHelp(say, proxy.url, config);
    return;
  }
  await platforms.start(started);
  if (web !== null) printConsoleAddress(say, proxy.url, bots, config);
}

/** The console's address; with no bot it comes first, since the console is where the relay's main job is done. */
function printConsoleAddress(say: Say, url: string, bots: boolean, config: Config): void {
  say(process.stdout, `\nWeb console: ${url}/ui/  (type a task there)\n\n`);
  if (!bots) printProxyOnlyHelp(say, url, config, true);
}

/** A project folder that does not exist is a start error rather than every task in it failing. */
function checkProjectFolders(
  sessions: Config['sessions'],
  env: Readonly<Record<string, string | undefined>>,
): void {
  for (const project of sessions.projects ?? []) {
    if (project.path === sessions.workspace || existsSync(project.path)) continue;
    const variable = env.PROJECTS?.trim() ? 'PROJECTS' : 'ALLOWED_DIR';
    throw new ConfigError(variable, `${project.path} does not exist`);
  }
}

function warnAboutMissingKeys(config: Config, logger: Logger): void {
  for (const warning of missingKeyWarnings(config.proxy)) logger.warn(warning);
}

function printProxyOnlyHelp(say: Say, url: string, config: Config, withConsole = false): void {
  const token = config.proxy.authToken ? '<your PROXY_AUTH_TOKEN>' : 'relay';
  const tokens = PLATFORMS.map((platform) => platform.selectedBy.join(' + ')).join(' / ');
  say(
    process.stdout,
    [
      '',
      withConsole
        ? `No messaging token is set (${tokens}): the web console above is where tasks run.`
        : config.gateway === undefined
          ? `No messaging token is set (${tokens}): running the proxy alone.`
          : `No messaging token is set (${tokens}): running the proxy and the API gateway.`,
      withConsole ? 'Or point Claude Code at the proxy itself:' : 'Point Claude Code at it:',
      '',
      `  ANTHROPIC_BASE_URL=${url} ANTHROPIC_AUTH_TOKEN=${token} CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 claude`,
      '',
      '',
    ].join('\n'),
  );
}

function installShutdown(logger: Logger, stops: Array<() => Promise<void>>): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    (async () => {
      for (const stop of stops) {
        try {
          await stop();
        } catch (error) {
          logger.error({ err: error }, 'error while shutting down');
        }
      }
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

let say = createSay(process.env);
(async () => {
  // .env is read inside the guarded path: an unreadable one is a one-line error like any other.
  const environment = readEnvironment(process.cwd(), process.env);
  say = createSay(environment);
  await run(say, environment);
})().catch((error: unknown) => {
  if (error instanceof PlatformRefusedError) {
    say(process.stderr, `Messaging error: ${error.message}\n`);
    process.exit(1);
  }
  say(process.stderr, `Fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
