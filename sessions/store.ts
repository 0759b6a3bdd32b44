import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { z } from 'zod';
import type { Logger } from '../src/log.js';
import type { CliProcessRecord } from './leftover-processes.js';
import type { ChatSettings, NodeSnapshot } from './types.js';

// Nodes persisted through keyv, one key per node (`node:<id>`), and each chat's settings (`chat:<key>`), values schema-versioned and parsed on load. A
// running node's value also holds its CLI process record, so the next start can end a CLI left running.
// Writes go through one chain so they land in the order they were made; errors are thrown (throwOnErrors), so
// a caller that awaits a save knows the node is stored.
//
// Other stores by URL (SESSION_STORE_URL): keyv adapters share one interface, so only the adapter differs.
// `sqlite://<path>` is the default. `redis://…` / `rediss://…` use `@keyv/redis`, `postgres://…` /
// `postgresql://…` our own adapter over `pg` (postgres-adapter.ts): both installed with the relay and loaded only
// when their URL is used (a trimmed install without @keyv/redis gets a start error that says what to install). The adapter must support
// iteration (both do), which `load()` uses. Several relay processes on one store would also need a lock per node
// (not needed while one process owns it). Another keyv adapter is one more entry in OPTIONAL_ADAPTERS.

const SCHEMA_VERSION = 1;
const CHAT_PREFIX = 'chat:';

const refSchema = z.object({ platform: z.string(), chatId: z.string(), messageId: z.string() });
const usageSchema = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheCreationTokens: z.number(),
});
const outcomeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('done'), text: z.string() }),
  z.object({ kind: z.literal('error'), message: z.string(), limit: z.literal('max_turns').optional() }),
  z.object({ kind: z.literal('stopped'), partialText: z.string() }),
  z.object({ kind: z.literal('timed_out'), idleMs: z.number(), partialText: z.string() }),
  z.object({
    kind: z.literal('crashed'),
    exitCode: z.number().nullable(),
    signal: z.string().nullable(),
    detail: z.string(),
  }),
  z.object({ kind: z.literal('interrupted'), reason: z.string(), skipped: z.literal(true).optional() }),
]);
const nodeSchema = z.object({
  id: z.string(),
  treeId: z.string(),
  parentId: z.string().nullable(),
  prompt: z.string(),
  state: z.enum(['queued', 'running', 'done', 'error', 'stopped', 'interrupted']),
  queuePosition: z.number().nullable(),
  sessionId: z.string().nullable(),
  forkOf: z.string().nullable().optional(),
  workingDirectory: z.string(),
  // Added with worktrees; optional, so values stored before still parse.
  worktree: z
    .object({
      path: z.string(),
      branch: z.string(),
      repo: z.string(),
      from: z.string().optional(),
      base: z.string(),
      mainBase: z.string(),
      removedAt: z.number().optional(),
      kept: z.string().optional(),
    })
    .optional(),
  // Added for API requests; optional, so values stored before still parse.
  run: z
    .object({
      model: z.string().optional(),
      appendSystemPrompt: z.string().optional(),
      maxTurns: z.number().optional(),
      permissionMode: z.enum(['default', 'acceptEdits', 'plan', 'bypass']).optional(),
    })
    .optional(),
  priority: z.enum(['chat', 'high', 'normal', 'low']).optional(),
  messages: z.array(z.object({ ref: refSchema, role: z.enum(['prompt', 'status', 'continuation']) })),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  costUsd: z.number(),
  usage: usageSchema,
  outcome: outcomeSchema.nullable(),
});
const processSchema = z.object({
  pid: z.number(),
  pgid: z.number(),
  startTime: z.number(),
  bootId: z.string().nullable(),
  tag: z.string().optional(),
});
const storedSchema = z.object({
  v: z.literal(SCHEMA_VERSION),
  node: nodeSchema,
  // Added after v1 shipped; optional, so older values still parse.
  process: processSchema.nullable().optional(),
});

/** A chat's settings: `chat:<chat key>`, beside the nodes. */
const chatSchema = z.object({
  v: z.literal(SCHEMA_VERSION),
  settings: z.object({
    mode: z.enum(['default', 'acceptEdits', 'plan', 'bypass']).optional(),
    project: z.string().optional(),
  }),
});

export class StoreError extends Error {
  readonly kind = 'store';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export interface NodeStore {
  /** Every stored node; values that do not parse are logged, counted and left in place. */
  load(): Promise<{
    nodes: NodeSnapshot[];
    processes: Map<string, CliProcessRecord>;
    unreadable: number;
  }>;
  save(node: NodeSnapshot, cliProcess?: CliProcessRecord | null): Promise<void>;
  /** Every chat's stored settings; values that do not parse are logged and skipped. */
  loadChats(): Promise<Map<string, ChatSettings>>;
  saveChat(chatKey: string, settings: ChatSettings): Promise<void>;
  remove(ids: string[]): Promise<void>;
  /** Writes and deletes a marker key: throws if the store cannot be written. */
  probe(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** How long a write waits for a lock held by another connection before failing (SQLite, default 5 s). */
  busyTimeoutMs?: number;
  /**
   * Keeps this relay's nodes apart from other relays' on a shared server (SESSION_STORE_URL=postgres://… or
   * redis://… used by two bots): keys are `<namespace>:node:<id>`. Default `relay`.
   */
  namespace?: string;
}

/** The URL without credentials (redis://:secret@host), for messages and logs. */
export function redactStoreUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1…@');
}

/**
 * A node as stored: without the images of an API request's prompt. They are only read when its CLI starts, a
 * request still queued at a restart is not run again, and megabytes of base64 rewritten at every state change
 * (and loaded at every start) would make the store the heaviest part of the relay.
 */
function withoutImages(node: NodeSnapshot): NodeSnapshot {
  if (node.run?.images === undefined) return node;
  const { images: _images, ...run } = node.run;
  return { ...node, run };
}

/** The first line of an error's message (SQLite: "SQLITE_READONLY: attempt to write a readonly database"). */
export function briefError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.slice(0, 300) ?? '';
}

/** How long a store server may take to answer before the start (or a write) fails with a clear error. */
const SERVER_TIMEOUT_MS = 5000;

/**
 * Redis: by default its client retries a lost connection forever and queues every command meanwhile, so a relay
 * pointed at a server that is down would hang at start. Connect and reconnect attempts are bounded instead, and
 * errors are thrown (the engine holds and retries failed writes itself).
 */
const redisArgs = (url: string): unknown[] => [
  {
    url,
    socket: {
      connectTimeout: SERVER_TIMEOUT_MS,
      reconnectStrategy: (retries: number) =>
        retries >= 3 ? new Error('the Redis server does not answer') : 200 * (retries + 1),
    },
    disableOfflineQueue: true,
  },
  { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: SERVER_TIMEOUT_MS },
];

/** The optional keyv adapters by URL scheme: their package, and the constructor's arguments for a URL. */
const OPTIONAL_ADAPTERS: Record<string, { pkg: string; args(url: string): unknown[] }> = {
  redis: { pkg: '@keyv/redis', args: redisArgs },
  rediss: { pkg: '@keyv/redis', args: redisArgs },
};

/** PostgreSQL through our own small adapter (postgres-adapter.ts), loaded only when used. */
async function postgresAdapter(url: string, logger: Logger): Promise<KeyvStoreAdapter> {
  const { createPostgresAdapter } = await import('./postgres-adapter.js');
  return createPostgresAdapter(url, {
    connectionTimeoutMs: SERVER_TIMEOUT_MS,
    onIdleError: (error) =>
      logger.warn({ err: error }, 'a PostgreSQL connection of the session store broke; it is replaced'),
  });
}

function isAdapter(value: unknown): value is KeyvStoreAdapter {
  return (
    typeof value === 'object' &&
    value !== null &&
    ['get', 'set', 'delete'].every((name) => typeof Reflect.get(value, name) === 'function')
  );
}

async function loadOptionalAdapter(
  url: string,
  scheme: string,
  { pkg, args }: { pkg: string; args(url: string): unknown[] },
): Promise<KeyvStoreAdapter> {
  let module: unknown;
  try {
    // Loaded on first use only: a relay on SQLite never pays for a Redis or PostgreSQL client.
    const specifier = pkg;
    module = await import(specifier);
  } catch (error) {
    throw new StoreError(
      `SESSION_STORE_URL uses ${scheme}://, which needs the keyv adapter ${pkg}: install it next to the relay ` +
        `(npm install ${pkg}) or use the built-in sqlite://<path>. (${briefError(error)})`,
      { cause: error },
    );
  }
  const Adapter = typeof module === 'object' && module !== null ? Reflect.get(module, 'default') : undefined;
  const adapter: unknown = typeof Adapter === 'function' ? Reflect.construct(Adapter, args(url)) : undefined;
  if (!isAdapter(adapter)) {
    throw new StoreError(
      `SESSION_STORE_URL: ${pkg} does not export a keyv store adapter as its default export`,
    );
  }
  return adapter;
}

async function createAdapter(url: string, options: StoreOptions, logger: Logger): Promise<KeyvStoreAdapter> {
  const scheme = url.slice(0, Math.max(0, url.indexOf(':'))).toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return postgresAdapter(url, logger);
  const optional = OPTIONAL_ADAPTERS[scheme];
  if (optional !== undefined) return loadOptionalAdapter(url, scheme, optional);
  if (scheme !== 'sqlite') {
    throw new StoreError(
      `SESSION_STORE_URL scheme '${scheme}' is not supported: use sqlite://<path>, redis://… or postgres://….`,
    );
  }
  const path = url.replace(/^sqlite:\/\//i, '');
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  // Loaded only for a SQLite store: a relay on Redis or PostgreSQL never loads sqlite3.
  const { default: KeyvSqlite } = await import('@keyv/sqlite');
  const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, busyTimeout: options.busyTimeoutMs ?? 5000 });
  // WAL: readers do not block the writer, and a crash mid-write leaves the last committed state.
  await adapter.query('PRAGMA journal_mode=WAL');
  return adapter;
}

export async function openNodeStore(
  url: string,
  logger: Logger,
  options: StoreOptions = {},
): Promise<NodeStore> {
  const shown = redactStoreUrl(url);
  let keyv: Keyv;
  try {
    keyv = new Keyv({
      store: await createAdapter(url, options, logger),
      namespace: options.namespace ?? 'relay',
      throwOnErrors: true,
    });
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`SESSION_STORE_URL=${shown}: cannot open the session store (${briefError(error)})`, {
      cause: error,
    });
  }
  const probe = async (): Promise<void> => {
    await keyv.set('meta:write-check', Date.now());
    await keyv.delete('meta:write-check');
  };
  // A store that opens but cannot be written (a read-only file or directory) must fail here, at start, rather
  // than at the first task.
  try {
    await probe();
  } catch (error) {
    await keyv.disconnect().catch(() => undefined);
    throw new StoreError(
      `SESSION_STORE_URL=${shown}: the session store cannot be written (${briefError(error)}). ` +
        (/^sqlite:/i.test(url)
          ? "Check that the relay's user may write the file and its directory."
          : 'Check that the server is running, reachable at that address, and accepts these credentials.'),
      { cause: error },
    );
  }
  let chain: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(write: () => Promise<T>): Promise<T> => {
    const next = chain.then(write, write);
    chain = next.catch(() => undefined);
    return next;
  };

  return {
    async load() {
      const nodes: NodeSnapshot[] = [];
      const processes = new Map<string, CliProcessRecord>();
      let unreadable = 0;
      const iterate = keyv.iterator;
      if (iterate === undefined) throw new StoreError('the session store cannot list its keys');
      for await (const entry of iterate(undefined)) {
        const [key, value] = Array.isArray(entry) ? entry : [undefined, undefined];
        if (typeof key !== 'string' || !key.startsWith('node:')) continue;
        const parsed = storedSchema.safeParse(value);
        if (parsed.success) {
          nodes.push(parsed.data.node);
          if (parsed.data.process) processes.set(parsed.data.node.id, parsed.data.process);
        } else {
          unreadable += 1;
          logger.error(
            { key, issues: parsed.error.issues.slice(0, 3) },
            'stored node does not parse; skipped',
          );
        }
      }
      return { nodes, processes, unreadable };
    },
    async loadChats() {
      const chats = new Map<string, ChatSettings>();
      const iterate = keyv.iterator;
      if (iterate === undefined) throw new StoreError('the session store cannot list its keys');
      for await (const entry of iterate(undefined)) {
        const [key, value] = Array.isArray(entry) ? entry : [undefined, undefined];
        if (typeof key !== 'string' || !key.startsWith(CHAT_PREFIX)) continue;
        const parsed = chatSchema.safeParse(value);
        if (parsed.success) chats.set(key.slice(CHAT_PREFIX.length), parsed.data.settings);
        else
          logger.error(
            { key, issues: parsed.error.issues.slice(0, 3) },
            'stored chat settings do not parse; skipped',
          );
      }
      return chats;
    },
    saveChat(chatKey, settings) {
      return enqueue(async () => {
        await keyv.set(`${CHAT_PREFIX}${chatKey}`, { v: SCHEMA_VERSION, settings });
      });
    },
    save(node, cliProcess = null) {
      const stored = withoutImages(node);
      return enqueue(async () => {
        await keyv.set(`node:${node.id}`, { v: SCHEMA_VERSION, node: stored, process: cliProcess });
      });
    },
    remove(ids) {
      return enqueue(async () => {
        if (ids.length > 0) await keyv.deleteMany(ids.map((id) => `node:${id}`));
      });
    },
    probe() {
      return enqueue(probe);
    },
    async close() {
      await chain;
      await keyv.disconnect();
    },
  };
}
