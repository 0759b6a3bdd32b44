import type { Logger } from 'pino';
import type { EngineListener, NodeSnapshot } from '../sessions/index.js';
import type { Env, PlatformSource } from '../src/config.js';
import type { MessagingPlatform } from './platform.js';
import type { Dialect } from './render/index.js';

// What a chat platform's folder exports: one module object saying everything the relay must know of it. The
// registry in index.ts lists the modules; the config loader, log scrubbing and start-up all read platforms
// from there, so a new chat is one folder and one registry line.

export interface PlatformDeps {
  /** Already tagged with the platform's id. */
  logger: Logger;
  /** Every conversation the relay runs, read-only (the web console draws them; chats have no use for it). */
  conversations?: ConversationsView;
}

/** The engine's conversations as a platform may read them: a list, and word of every change. */
export interface ConversationsView {
  list(): NodeSnapshot[];
  subscribe(listener: EngineListener): () => void;
}

/** One entry of a platform's command menu. */
export interface MenuCommand {
  name: string;
  description: string;
}

export interface PlatformModule<C> {
  /** `telegram`: how MESSAGING_PLATFORM names it, and the `platform` of every message it handles. */
  readonly id: string;
  /** How people call it: `Telegram`. */
  readonly label: string;
  /** Set together, these environment variables select the platform when MESSAGING_PLATFORM is unset. */
  readonly selectedBy: readonly [string, ...string[]];
  readonly dialect: Dialect;
  /** The commands its menu offers. */
  readonly commands: readonly MenuCommand[];
  /** Reads and checks its own variables (MESSAGING_PLATFORM has already asked for it). */
  readConfig(env: Env): C;
  /** What in its config must never reach the log (tokens). */
  secrets(config: C): string[];
  create(config: C, deps: PlatformDeps): MessagingPlatform;
}

/** A platform with its config read: what the messaging config carries and start-up builds. */
export interface ConfiguredPlatform {
  readonly id: string;
  readonly secrets: readonly string[];
  create(deps: PlatformDeps): MessagingPlatform;
}

/**
 * A module as the registry holds it: its config type is sealed inside `configure`, so one list holds every
 * platform however its config looks (and no config can reach another platform's `create`).
 */
export interface RegisteredPlatform extends PlatformSource<ConfiguredPlatform> {
  readonly label: string;
  readonly dialect: Dialect;
  readonly commands: readonly MenuCommand[];
}

export function register<C>(module: PlatformModule<C>): RegisteredPlatform {
  const { id, label, selectedBy, dialect, commands } = module;
  return {
    id,
    label,
    selectedBy,
    dialect,
    commands,
    configure: (env) => configured(module, module.readConfig(env)),
  };
}

/** The module with its config in hand (tests build one without an environment). */
export function configured<C>(module: PlatformModule<C>, config: C): ConfiguredPlatform {
  return {
    id: module.id,
    secrets: module.secrets(config),
    create: (deps) => module.create(config, deps),
  };
}
