import { createHash } from 'node:crypto';
import { basename, isAbsolute, resolve } from 'node:path';
import {
  DEFAULT_PROVIDER,
  findProviderId,
  PROVIDER_IDS,
  PROVIDERS,
  type ProviderId,
  type ProviderProtocol,
  perProvider,
  type SettingRule,
} from './providers.js';

// The one place that reads environment variables. Everything else receives typed config.

export interface ModelRef {
  provider: ProviderId;
  /** Empty for the `anthropic` pass-through without MODEL: the requested model is kept. */
  model: string;
}

export interface ProviderSettings {
  id: ProviderId;
  /** How requests reach it: the table's protocol, or the Messages API where the server has it and was told to. */
  protocol: ProviderProtocol;
  baseUrl: string;
  apiKey: string | undefined;
  /** Request fields sent unless the request sets its own: the table's defaults, then the user's settings. */
  requestFields: Readonly<Record<string, unknown>>;
  /** The user's settings alone (the `NIM` block), which also beat what the request implies (its thinking effort). */
  userFields: Readonly<Record<string, unknown>>;
}

export interface ProxyConfig {
  host: string;
  port: number;
  authToken: string | undefined;
  models: { default: ModelRef; opus: ModelRef; sonnet: ModelRef; haiku: ModelRef };
  /** Tried in order when a tier's model fails or stays rate-limited (MODEL_FALLBACKS, MODEL_<TIER>_FALLBACKS). */
  fallbacks: { default: ModelRef[]; opus: ModelRef[]; sonnet: ModelRef[]; haiku: ModelRef[] };
  /**
   * The largest `max_tokens` sent for a tier's requests, whichever of its models answers, in place of the
   * provider's ceiling (MODEL_MAX_OUTPUT_TOKENS, MODEL_<TIER>_MAX_OUTPUT_TOKENS); undefined: the provider's.
   */
  maxOutputTokens: {
    default: number | undefined;
    opus: number | undefined;
    sonnet: number | undefined;
    haiku: number | undefined;
  };
  /** How long a rate limit is waited out before a fallback answers instead (PROVIDER_FALLBACK_AFTER). */
  fallbackAfterMs: number;
  providers: Record<ProviderId, ProviderSettings>;
  rateLimit: { requests: number; windowMs: number; maxConcurrency: number };
  timeouts: { readMs: number; writeMs: number; connectMs: number };
  /** Only `titleGenerationSkip` still acts; the other four are read for compatibility (src/proxy/shortcuts.ts). */
  shortcuts: {
    fastPrefixDetection: boolean;
    networkProbeMock: boolean;
    titleGenerationSkip: boolean;
    suggestionModeSkip: boolean;
    filepathExtractionMock: boolean;
  };
  maxBodyBytes: number;
}

/**
 * What the loader needs of one chat platform. The composition root hands over the registry of platforms/
 * (this module cannot import platforms/, which imports it); `P` is what a platform makes of its variables.
 */
export interface PlatformSource<P> {
  readonly id: string;
  /** Set together, these select the platform when MESSAGING_PLATFORM is unset (its token, say). */
  readonly selectedBy: readonly [string, ...string[]];
  /** Reads and checks the platform's own variables, throwing a ConfigError that names the first bad one. */
  configure(env: Env): P;
}

export interface MessagingConfig<P = unknown> {
  /** The ids of the platforms that run: those MESSAGING_PLATFORM names, else each whose variables are set. */
  platforms: string[];
  /** Those platforms as their modules configured them, in the registry's order. */
  configured: P[];
  rateLimit: { count: number; windowMs: number };
}

export const WHISPER_DEVICES = ['cpu', 'cuda', 'auto'] as const;

export interface VoiceConfig {
  enabled: boolean;
  /** `WHISPER_AUTO_DOWNLOAD`: fetch a missing published model (checksum verified) at the first voice note. */
  autoDownload: boolean;
  model: string;
  modelDir: string;
  device: (typeof WHISPER_DEVICES)[number];
  language: string;
}

export interface SessionsConfig {
  workspace: string;
  allowedDirs: string[];
  maxSessions: number;
  claudeBin: string | undefined;
  backend: 'proxy' | 'anthropic';
  idleTimeoutMs: number;
  storeUrl: string;
  /** On a store server several relays may share: this relay's part of it, named after its bots (storeNamespace). */
  storeNamespace?: string | undefined;
  /** `skip`: --dangerously-skip-permissions; `ask`: every tool call that needs permission is asked in chat. */
  permissions?: 'skip' | 'ask';
  permissionTimeoutMs?: number;
  /** WORKTREES: `auto` gives each fork in a git project its own worktree (the default); `off`. */
  worktrees?: 'auto' | 'off';
  /** MERGE_STYLE: how /merge brings a branch into the main worktree (default squash). */
  mergeStyle?: 'merge' | 'squash';
  /** WORKTREE_TTL: days after its last run before a finished branch's worktree is pruned (default 14). */
  worktreeTtlDays?: number;
  /** PROJECTS, else ALLOWED_DIR's first entry, else the workspace: where a chat may work, the first the default. */
  projects?: Project[];
  /** `CLAUDE_SANDBOX` and `SANDBOX_ALLOW_HOSTS`; absent: no sandbox (test rigs that build a config by hand). */
  sandbox?: SandboxConfig;
}

export interface Project {
  name: string;
  path: string;
}

export interface SandboxConfig {
  /** `auto` (unset): on where bubblewrap can start; `on`: required (tasks fail rather than run uncontained). */
  mode: 'auto' | 'on' | 'off';
  /** `SANDBOX_ALLOW_HOSTS`: hosts sandboxed commands may reach. */
  allowHosts: string[];
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The API gateway: Claude Code sessions behind the OpenAI and Anthropic APIs (off without GATEWAY_PORT). */
export interface GatewayConfig {
  port: number;
  /** Keys a request must carry (`Authorization: Bearer` or `x-api-key`); none on loopback means open. */
  apiKeys: string[];
  /** Gateway requests waiting for a session; one more is refused (503). */
  queueMax: number;
  queueTimeoutMs: number;
  runTimeoutMs: number;
  maxBodyBytes: number;
  /** `final`: the answer is the last turn's text, earlier narration goes to reasoning; `all`: every turn's text. */
  stream: 'final' | 'all';
  maxTurns: number | undefined;
  /** Where API conversations work (GATEWAY_WORKSPACE); the sessions' workspace unless set. */
  workspace: string | undefined;
  /** CLI processes kept started per model tier in use, for new API conversations (GATEWAY_PRESTART). */
  prestart: number;
}

export interface Config<P = unknown> {
  proxy: ProxyConfig;
  gateway: GatewayConfig | undefined;
  messaging: MessagingConfig<P>;
  voice: VoiceConfig;
  sessions: SessionsConfig;
  logLevel: (typeof LOG_LEVELS)[number];
}

export class ConfigError extends Error {
  readonly kind = 'config';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

// The readers below are shared with the platforms, which read their own variables with them.

export function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

export function seconds(env: Env, name: string, fallback: number, min = 0.001, max = 86_400): number {
  const raw = text(env, name);
  if (raw === undefined) return Math.round(fallback * 1000);
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a number of seconds from ${min} to ${max}, got '${raw}'`);
  }
  return Math.round(value * 1000);
}

export function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got '${env[name]}'`);
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const found = allowed.find((candidate) => candidate === raw.toLowerCase());
  if (found === undefined) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got '${raw}'`);
  return found;
}

export function list(env: Env, name: string): string[] {
  return (text(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function idList(env: Env, name: string): string[] {
  const ids = list(env, name);
  for (const id of ids) {
    if (!/^\d+$/.test(id)) throw new ConfigError(name, `must be comma-separated numeric ids, got '${id}'`);
  }
  return ids;
}

export function url(env: Env, name: string, fallback: string): string {
  const raw = text(env, name) ?? fallback;
  if (raw === '') return '';
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got '${raw}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http(s) URL, got '${raw}'`);
  }
  return raw.replace(/\/+$/, '');
}

/** A JSON object of provider request fields (`NIM={"temperature":0.6}`), each checked against its rule. */
function withDefaults(
  defaults: Readonly<Record<string, unknown>>,
  user: Record<string, unknown>,
): Pick<ProviderSettings, 'requestFields' | 'userFields'> {
  return { requestFields: { ...defaults, ...user }, userFields: user };
}

function settingsObject(
  env: Env,
  settings: { variable: string; fields: Readonly<Record<string, SettingRule>> },
): Record<string, unknown> {
  const raw = text(env, settings.variable);
  if (raw === undefined) return {};
  const allowed = Object.keys(settings.fields).join(', ');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(
      settings.variable,
      `must be a JSON object such as {"temperature":0.6}, got '${raw}'`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(
      settings.variable,
      `must be a JSON object such as {"temperature":0.6}, got '${raw}'`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(parsed)) {
    const rule = settings.fields[field];
    if (rule === undefined)
      throw new ConfigError(settings.variable, `has no field '${field}' (allowed: ${allowed})`);
    const problem = settingProblem(rule, value);
    if (problem !== null)
      throw new ConfigError(settings.variable, `${field} ${problem}, got ${JSON.stringify(value)}`);
    out[field] = value;
  }
  return out;
}

function settingProblem(rule: SettingRule, value: unknown): string | null {
  switch (rule.kind) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || value > rule.max)
        return `must be a number from ${rule.min} to ${rule.max}`;
      return rule.integer && !Number.isInteger(value) ? 'must be a whole number' : null;
    case 'choice':
      return typeof value === 'string' && rule.values.includes(value)
        ? null
        : `must be one of ${rule.values.join(', ')}`;
    case 'flag':
      return typeof value === 'boolean' ? null : 'must be true or false';
  }
}

function loadGateway(env: Env, cwd: string): GatewayConfig | undefined {
  if (text(env, 'GATEWAY_PORT') === undefined) return undefined;
  const host = text(env, 'HOST') ?? '127.0.0.1';
  const apiKeys = list(env, 'GATEWAY_API_KEYS');
  if (!isLoopback(host) && apiKeys.length === 0) {
    throw new ConfigError(
      'GATEWAY_API_KEYS',
      `is required because HOST=${host} is reachable from other machines: set one or more long random keys, or HOST=127.0.0.1`,
    );
  }
  const maxTurns = text(env, 'GATEWAY_MAX_TURNS');
  return {
    port: integer(env, 'GATEWAY_PORT', 8083, 0, 65_535),
    apiKeys,
    queueMax: integer(env, 'GATEWAY_QUEUE_MAX', 20, 0, 100_000),
    queueTimeoutMs: seconds(env, 'GATEWAY_QUEUE_TIMEOUT', 60),
    runTimeoutMs: seconds(env, 'GATEWAY_TIMEOUT', 600),
    maxBodyBytes: integer(env, 'GATEWAY_MAX_BODY_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    stream: oneOf(env, 'GATEWAY_STREAM', ['final', 'all'] as const, 'final'),
    maxTurns: maxTurns === undefined ? undefined : integer(env, 'GATEWAY_MAX_TURNS', 0, 1, 10_000),
    workspace:
      text(env, 'GATEWAY_WORKSPACE') === undefined
        ? undefined
        : directory(cwd, text(env, 'GATEWAY_WORKSPACE') ?? ''),
    prestart: integer(env, 'GATEWAY_PRESTART', 1, 0, 10),
  };
}

/** Whether a listen address only accepts connections from this machine. */
/**
 * Two relays (two bots) on one Redis or PostgreSQL server keep their conversations apart by a bot's public id (the
 * part of its token before the secret), so no setting is needed; a token runs in one relay only, so one bot names
 * the relay: the Telegram bot if there is one, else the Discord bot. SQLite files are one relay's own: unchanged.
 */
export function storeNamespace(storeUrl: string, env: Env): string | undefined {
  if (/^sqlite:/i.test(storeUrl)) return undefined;
  const telegram = text(env, 'TELEGRAM_BOT_TOKEN');
  if (telegram !== undefined) return `telegram-${/^(\d+):/.exec(telegram)?.[1] ?? shortHash(telegram)}`;
  const discord = text(env, 'DISCORD_BOT_TOKEN');
  if (discord === undefined) return undefined;
  // A Discord token starts with the bot's user id in base64.
  const id = Buffer.from(discord.split('.')[0] ?? '', 'base64').toString('utf8');
  return `discord-${/^\d+$/.test(id) ? id : shortHash(discord)}`;
}

const shortHash = (secret: string): string => createHash('sha256').update(secret).digest('hex').slice(0, 12);

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** A variable that must be set; `because` completes the message (`is required because …`). */
export function required(env: Env, name: string, because: string): string {
  const value = text(env, name);
  if (value === undefined) throw new ConfigError(name, `is required ${because}`);
  return value;
}

/**
 * `open_router/deepseek/deepseek-r1:free` names a provider by its first segment; a value whose first segment is
 * not a provider id (`meta/llama3-70b-instruct`) is a model of the default provider.
 */
export function parseModelRef(name: string, raw: string, defaultProvider: ProviderId): ModelRef {
  const slash = raw.indexOf('/');
  const head = slash === -1 ? undefined : findProviderId(raw.slice(0, slash));
  if (head !== undefined) {
    const model = raw.slice(slash + 1).trim();
    if (model === '' && !PROVIDERS[head].keepsRequestedModel) {
      throw new ConfigError(name, `names provider '${head}' but no model after the '/'`);
    }
    return { provider: head, model };
  }
  return { provider: defaultProvider, model: raw };
}

function loadProxy(env: Env): ProxyConfig {
  const defaultProvider = oneOf(env, 'PROVIDER_TYPE', PROVIDER_IDS, DEFAULT_PROVIDER);
  const modelRaw = text(env, 'MODEL');
  const defaultModel = modelRaw
    ? parseModelRef('MODEL', modelRaw, defaultProvider)
    : { provider: defaultProvider, model: PROVIDERS[defaultProvider].defaultModel };
  const tier = (name: string): ModelRef => {
    const raw = text(env, name);
    return raw ? parseModelRef(name, raw, defaultProvider) : defaultModel;
  };
  const models = {
    default: defaultModel,
    opus: tier('MODEL_OPUS'),
    sonnet: tier('MODEL_SONNET'),
    haiku: tier('MODEL_HAIKU'),
  };
  const chain = (name: string): ModelRef[] =>
    list(env, name).map((raw) => parseModelRef(name, raw, defaultProvider));
  const everyTier = chain('MODEL_FALLBACKS');
  const tierChain = (name: string): ModelRef[] => (text(env, name) === undefined ? everyTier : chain(name));
  const fallbacks = {
    default: everyTier,
    opus: tierChain('MODEL_OPUS_FALLBACKS'),
    sonnet: tierChain('MODEL_SONNET_FALLBACKS'),
    haiku: tierChain('MODEL_HAIKU_FALLBACKS'),
  };

  // Like the fallbacks: one value for every tier, which a tier's own replaces.
  const ceiling = (name: string): number | undefined =>
    text(env, name) === undefined ? undefined : integer(env, name, 0, 1, 10_000_000);
  const everyTierCeiling = ceiling('MODEL_MAX_OUTPUT_TOKENS');
  const tierCeiling = (name: string): number | undefined => ceiling(name) ?? everyTierCeiling;
  const maxOutputTokens = {
    default: everyTierCeiling,
    opus: tierCeiling('MODEL_OPUS_MAX_OUTPUT_TOKENS'),
    sonnet: tierCeiling('MODEL_SONNET_MAX_OUTPUT_TOKENS'),
    haiku: tierCeiling('MODEL_HAIKU_MAX_OUTPUT_TOKENS'),
  };

  const providers = perProvider<ProviderSettings>((provider) => ({
    id: provider.id,
    protocol:
      provider.nativeMessages !== undefined &&
      oneOf(env, provider.nativeMessages.variable, ['chat', 'messages'] as const, 'chat') === 'messages'
        ? 'anthropic-messages'
        : provider.protocol,
    baseUrl: url(env, provider.baseUrlVariable, provider.defaultBaseUrl),
    apiKey: provider.key === undefined ? undefined : text(env, provider.key.variable),
    ...withDefaults(
      provider.requestDefaults,
      provider.settings === undefined ? {} : settingsObject(env, provider.settings),
    ),
  }));

  // A model routed to a provider that cannot be reached is a start-up error, not a first-request surprise.
  const routed = [
    ...Object.entries(models).map(([tierName, ref]) => ({ tierName, ref, fallback: false })),
    ...Object.entries(fallbacks).flatMap(([tierName, refs]) =>
      refs.map((ref) => ({ tierName, ref, fallback: true })),
    ),
  ];
  for (const { tierName, ref, fallback } of routed) {
    const tierVariable = tierName === 'default' ? 'MODEL' : `MODEL_${tierName.toUpperCase()}`;
    const variable = fallback
      ? tierName === 'default' || text(env, `${tierVariable}_FALLBACKS`) === undefined
        ? 'MODEL_FALLBACKS'
        : `${tierVariable}_FALLBACKS`
      : tierVariable;
    const provider = PROVIDERS[ref.provider];
    if (providers[ref.provider].baseUrl === '') {
      throw new ConfigError(
        provider.baseUrlVariable,
        `is required because ${variable} uses the ${provider.id} provider`,
      );
    }
    if (ref.model === '' && !provider.keepsRequestedModel) {
      throw new ConfigError(
        variable,
        `must name a model for the ${provider.id} provider (e.g. MODEL=llama3.1)`,
      );
    }
  }

  const host = text(env, 'HOST') ?? '127.0.0.1';
  const authToken = text(env, 'PROXY_AUTH_TOKEN');
  // Reachable from elsewhere with no token, the proxy would spend the user's provider keys for anyone.
  if (!isLoopback(host) && authToken === undefined) {
    throw new ConfigError(
      'PROXY_AUTH_TOKEN',
      `is required because HOST=${host} is reachable from other machines: set a long random token (the relay's own sessions get it automatically), or HOST=127.0.0.1`,
    );
  }
  return {
    host,
    port: integer(env, 'PORT', 8082, 0, 65_535),
    authToken,
    models,
    fallbacks,
    maxOutputTokens,
    fallbackAfterMs: seconds(env, 'PROVIDER_FALLBACK_AFTER', 30),
    providers,
    rateLimit: {
      requests: integer(env, 'PROVIDER_RATE_LIMIT', 40, 1, 1_000_000),
      windowMs: seconds(env, 'PROVIDER_RATE_WINDOW', 60),
      maxConcurrency: integer(env, 'PROVIDER_MAX_CONCURRENCY', 5, 1, 1000),
    },
    timeouts: {
      readMs: seconds(env, 'HTTP_READ_TIMEOUT', 300),
      writeMs: seconds(env, 'HTTP_WRITE_TIMEOUT', 10),
      connectMs: seconds(env, 'HTTP_CONNECT_TIMEOUT', 10),
    },
    shortcuts: {
      fastPrefixDetection: flag(env, 'FAST_PREFIX_DETECTION', true),
      networkProbeMock: flag(env, 'ENABLE_NETWORK_PROBE_MOCK', true),
      titleGenerationSkip: flag(env, 'ENABLE_TITLE_GENERATION_SKIP', true),
      suggestionModeSkip: flag(env, 'ENABLE_SUGGESTION_MODE_SKIP', true),
      filepathExtractionMock: flag(env, 'ENABLE_FILEPATH_EXTRACTION_MOCK', true),
    },
    maxBodyBytes: integer(env, 'PROXY_MAX_BODY_BYTES', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  };
}

/** A provider that needs a key and has none would fail every request: said at start, not at the first task. */
export function missingKeyWarnings(proxy: ProxyConfig): string[] {
  const used = new Set(
    [...Object.values(proxy.models), ...Object.values(proxy.fallbacks).flat()].map((ref) => ref.provider),
  );
  const warnings: string[] = [];
  for (const id of used) {
    const key = PROVIDERS[id].key;
    if (key?.required && proxy.providers[id].apiKey === undefined) {
      warnings.push(
        `${key.variable} is not set: requests routed to ${id} will fail until it is (see .env.example)`,
      );
    }
  }
  return warnings;
}

function loadMessaging<P>(env: Env, sources: readonly PlatformSource<P>[]): MessagingConfig<P> {
  const ids = sources.map((source) => source.id);
  const requested = text(env, 'MESSAGING_PLATFORM')?.toLowerCase();
  let platforms: string[];
  if (requested === undefined) {
    platforms = sources
      .filter((source) => source.selectedBy.every((name) => text(env, name) !== undefined))
      .map((source) => source.id);
  } else if (requested === 'none') {
    platforms = [];
  } else {
    platforms = [];
    for (const part of requested.split(',').map((item) => item.trim())) {
      const id = ids.find((candidate) => candidate === part);
      if (id === undefined) {
        throw new ConfigError('MESSAGING_PLATFORM', `must be ${platformChoices(ids)}, got '${part}'`);
      }
      if (!platforms.includes(id)) platforms.push(id);
    }
  }
  const chosen = sources.filter((source) => platforms.includes(source.id));
  // The selecting variables of every chosen platform are checked before any reads the rest: a missing token
  // is named first.
  for (const source of chosen) {
    for (const name of source.selectedBy) {
      required(env, name, `because MESSAGING_PLATFORM includes ${source.id}`);
    }
  }
  return {
    platforms,
    configured: chosen.map((source) => source.configure(env)),
    rateLimit: {
      count: integer(env, 'MESSAGING_RATE_LIMIT', 1, 1, 1000),
      windowMs: seconds(env, 'MESSAGING_RATE_WINDOW', 1),
    },
  };
}

/** `discord, telegram, discord,telegram or none`: each id, all of them together, or none. */
function platformChoices(ids: readonly string[]): string {
  const choices = ids.length > 1 ? [...ids, ids.join(',')] : [...ids];
  return choices.length === 0 ? 'none' : `${choices.join(', ')} or none`;
}

/**
 * PROJECTS (`name=path,…`), else ALLOWED_DIR's first entry (free-claude-code's meaning: the working directory),
 * else the workspace: the directories chats may work in, the first the default.
 */
function loadProjects(env: Env, cwd: string): Project[] {
  const entries = list(env, 'PROJECTS');
  if (entries.length === 0) {
    const path = directory(
      cwd,
      list(env, 'ALLOWED_DIR')[0] ?? text(env, 'CLAUDE_WORKSPACE') ?? './agent_workspace',
    );
    return [{ name: basename(path) || 'workspace', path }];
  }
  const projects: Project[] = [];
  for (const entry of entries) {
    const match = /^([A-Za-z0-9._-]+)=(.+)$/.exec(entry);
    if (!match) {
      throw new ConfigError(
        'PROJECTS',
        `each entry must be name=path with a name of letters, digits, . _ or -, got '${entry}'`,
      );
    }
    const name = match[1]!;
    if (projects.some((project) => project.name.toLowerCase() === name.toLowerCase())) {
      throw new ConfigError('PROJECTS', `the name '${name}' is given twice`);
    }
    projects.push({ name, path: directory(cwd, match[2]!.trim()) });
  }
  return projects;
}

function directory(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/**
 * Parses and validates the whole configuration; throws one ConfigError naming the first bad variable.
 * `platforms` is the registry of chat platforms (platforms/index.ts); without it no chat platform is known,
 * which is all the proxy and the sessions need.
 */
export function loadConfig<P = never>(
  env: Env,
  cwd: string = process.cwd(),
  platforms: readonly PlatformSource<P>[] = [],
): Config<P> {
  const storeUrl = text(env, 'SESSION_STORE_URL') ?? 'sqlite://./data/sessions.sqlite';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(storeUrl)) {
    throw new ConfigError(
      'SESSION_STORE_URL',
      `must be a keyv store URL such as sqlite://./data/sessions.sqlite, got '${storeUrl}'`,
    );
  }
  const model = (text(env, 'WHISPER_MODEL') ?? 'base').toLowerCase();
  if (!/^[a-z0-9.-]+$/.test(model)) {
    throw new ConfigError(
      'WHISPER_MODEL',
      `must be a whisper model name such as base or small.en, got '${model}'`,
    );
  }
  const proxy = loadProxy(env);
  const gateway = loadGateway(env, cwd);
  if (gateway !== undefined && gateway.port !== 0 && gateway.port === proxy.port) {
    throw new ConfigError('GATEWAY_PORT', `must differ from PORT (${proxy.port}): the proxy listens there`);
  }
  if (gateway !== undefined && text(env, 'CLAUDE_PERMISSIONS')?.toLowerCase() === 'ask') {
    throw new ConfigError(
      'CLAUDE_PERMISSIONS',
      'cannot be ask while the API gateway is on (GATEWAY_PORT): an API request has nobody to ask, so every tool call would wait PERMISSION_TIMEOUT and be denied',
    );
  }
  return {
    proxy,
    gateway,
    messaging: loadMessaging(env, platforms),
    voice: {
      enabled: flag(env, 'VOICE_NOTE_ENABLED', true),
      autoDownload: flag(env, 'WHISPER_AUTO_DOWNLOAD', true),
      model,
      modelDir: directory(cwd, text(env, 'WHISPER_MODEL_DIR') ?? './models'),
      device: oneOf(env, 'WHISPER_DEVICE', WHISPER_DEVICES, 'cpu'),
      language: text(env, 'WHISPER_LANGUAGE') ?? 'auto',
    },
    sessions: {
      workspace: directory(cwd, text(env, 'CLAUDE_WORKSPACE') ?? './agent_workspace'),
      allowedDirs: list(env, 'ALLOWED_DIR').map((dir) => directory(cwd, dir)),
      maxSessions: integer(env, 'MAX_CLI_SESSIONS', 10, 1, 100),
      claudeBin: text(env, 'CLAUDE_BIN'),
      backend: oneOf(env, 'CLAUDE_BACKEND', ['proxy', 'anthropic'] as const, 'proxy'),
      idleTimeoutMs: seconds(env, 'CLI_IDLE_TIMEOUT', 600, 1),
      storeUrl,
      storeNamespace: storeNamespace(storeUrl, env),
      permissions: oneOf(env, 'CLAUDE_PERMISSIONS', ['skip', 'ask'] as const, 'skip'),
      permissionTimeoutMs: seconds(env, 'PERMISSION_TIMEOUT', 300, 1),
      worktrees: oneOf(env, 'WORKTREES', ['auto', 'off'] as const, 'auto'),
      mergeStyle: oneOf(env, 'MERGE_STYLE', ['squash', 'merge'] as const, 'squash'),
      worktreeTtlDays: integer(env, 'WORKTREE_TTL', 14, 1, 3650),
      projects: loadProjects(env, cwd),
      sandbox: {
        mode: oneOf(env, 'CLAUDE_SANDBOX', ['auto', 'on', 'off'] as const, 'auto'),
        allowHosts: list(env, 'SANDBOX_ALLOW_HOSTS'),
      },
    },
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
  };
}
