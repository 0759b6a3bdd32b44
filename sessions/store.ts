import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import { z } from 'zod';
import type { Logger } from '../src/log.js';
import type { NodeSnapshot } from './types.js';

// Nodes persisted through keyv, one key per node (`node:<id>`), values schema-versioned and parsed on load.
// Writes go through one chain so they land in the order they were made; errors are thrown (throwOnErrors), so
// a caller that awaits a save knows the node is stored.
//
// Other stores by URL: keyv adapters share one interface, so Redis or Postgres only need their adapter here,
// chosen by the URL's scheme: `redis://host:6379` → `new KeyvRedis(url)` from `@keyv/redis`,
// `postgres://user@host/db` → `new KeyvPostgres({ uri: url })` from `@keyv/postgres`. The adapter must support
// iteration (both do), which `load()` uses; several relay processes on one store would also need a lock per node
// (not needed while one process owns it). Add the package, then a branch in `createAdapter`.

const SCHEMA_VERSION = 1;

const refSchema = z.object({ platform: z.string(), chatId: z.string(), messageId: z.string() });
const usageSchema = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheCreationTokens: z.number(),
});
const outcomeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('done'), text: z.string() }),
  z.object({ kind: z.literal('error'), message: z.string() }),
  z.object({ kind: z.literal('stopped'), partialText: z.string() }),
  z.object({ kind: z.literal('timed_out'), idleMs: z.number(), partialText: z.string() }),
  z.object({
    kind: z.literal('crashed'),
    exitCode: z.number().nullable(),
    signal: z.string().nullable(),
    detail: z.string(),
  }),
  z.object({ kind: z.literal('interrupted'), reason: z.string() }),
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
  messages: z.array(z.object({ ref: refSchema, role: z.enum(['prompt', 'status', 'continuation']) })),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  costUsd: z.number(),
  usage: usageSchema,
  outcome: outcomeSchema.nullable(),
});
const storedSchema = z.object({ v: z.literal(SCHEMA_VERSION), node: nodeSchema });

export class StoreError extends Error {
  readonly kind = 'store';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export interface NodeStore {
  /** Every stored node; values that do not parse are logged, counted and left in place. */
  load(): Promise<{ nodes: NodeSnapshot[]; unreadable: number }>;
  save(node: NodeSnapshot): Promise<void>;
  remove(ids: string[]): Promise<void>;
  close(): Promise<void>;
}

async function createAdapter(url: string): Promise<KeyvSqlite> {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme !== 'sqlite') {
    throw new StoreError(
      `SESSION_STORE_URL scheme '${scheme}' is not supported yet: use sqlite://<path> (Redis or Postgres need their keyv adapter, see sessions/store.ts)`,
    );
  }
  const path = url.replace(/^sqlite:\/\//i, '');
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, busyTimeout: 5000 });
  // WAL: readers do not block the writer, and a crash mid-write leaves the last committed state.
  await adapter.query('PRAGMA journal_mode=WAL');
  return adapter;
}

export async function openNodeStore(url: string, logger: Logger): Promise<NodeStore> {
  let adapter: KeyvSqlite;
  try {
    adapter = await createAdapter(url);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot open the session store at ${url}`, { cause: error });
  }
  const keyv = new Keyv({ store: adapter, namespace: 'relay', throwOnErrors: true });
  let chain: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(write: () => Promise<T>): Promise<T> => {
    const next = chain.then(write, write);
    chain = next.catch(() => undefined);
    return next;
  };

  return {
    async load() {
      const nodes: NodeSnapshot[] = [];
      let unreadable = 0;
      const iterate = keyv.iterator;
      if (iterate === undefined) throw new StoreError('the session store cannot list its keys');
      for await (const entry of iterate(undefined)) {
        const [key, value] = Array.isArray(entry) ? entry : [undefined, undefined];
        if (typeof key !== 'string' || !key.startsWith('node:')) continue;
        const parsed = storedSchema.safeParse(value);
        if (parsed.success) {
          nodes.push(parsed.data.node);
        } else {
          unreadable += 1;
          logger.error(
            { key, issues: parsed.error.issues.slice(0, 3) },
            'stored node does not parse; skipped',
          );
        }
      }
      return { nodes, unreadable };
    },
    save(node) {
      return enqueue(async () => {
        await keyv.set(`node:${node.id}`, { v: SCHEMA_VERSION, node });
      });
    },
    remove(ids) {
      return enqueue(async () => {
        if (ids.length > 0) await keyv.deleteMany(ids.map((id) => `node:${id}`));
      });
    },
    async close() {
      await chain;
      await keyv.disconnect();
    },
  };
}
