import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openNodeStore, redactStoreUrl, StoreError } from '../../sessions/store.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { requireToolsInCi } from '../require-tools.js';
import { createHarness, submitOk } from './harness.js';
import {
  postgresMissing,
  type RunningServer,
  redisServerMissing,
  startPostgres,
  startRedis,
} from './store-servers.js';

// SESSION_STORE_URL=redis://… and postgres://… against real servers: conversations survive a restart exactly as
// with the built-in SQLite store, and a server that is not there is one clear start error.

const missing = [...redisServerMissing(), ...postgresMissing()];
requireToolsInCi(missing);

const scratch = mkdtempSync(join(tmpdir(), 'store-servers-'));
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const backends = [
  { name: 'Redis', start: () => startRedis(), missing: redisServerMissing().length > 0 },
  { name: 'PostgreSQL', start: () => startPostgres(scratch), missing: postgresMissing().length > 0 },
];

describe.each(backends)('the session store on a real $name server', ({ start, missing: absent }) => {
  it.skipIf(absent)(
    "keeps every conversation (and each chat's settings) across a restart: a reply after it still forks",
    async () => {
      const server = await start();
      servers.push(server);
      const first = createHarness({ storeUrl: server.url });
      await first.engine.start();
      const root = await submitOk(first.engine, 'remember this');
      expect((await first.finished(root.node.id)).state).toBe('done');
      const child = await submitOk(first.engine, 'and this', root.origin);
      expect((await first.finished(child.node.id)).state).toBe('done');
      // A chat's /mode and /project for its new conversations are kept beside the nodes.
      await first.engine.setChatSettings('telegram:5150', { mode: 'plan', project: 'site' });
      await first.engine.close();

      const second = first.reopen();
      try {
        await second.engine.start();
        expect(second.engine.getNode(root.node.id)).toMatchObject({ state: 'done', prompt: 'remember this' });
        expect(second.engine.getNode(child.node.id)?.parentId).toBe(root.node.id);
        expect(second.engine.stats()).toMatchObject({ totalNodes: 2, trees: 1 });
        expect(second.engine.chatSettings('telegram:5150')).toEqual({ mode: 'plan', project: 'site' });
        expect(second.engine.chatSettings('discord:1')).toEqual({});
        const reply = await submitOk(second.engine, 'go on', child.origin);
        expect(reply.forkedFrom?.id).toBe(child.node.id);
        expect((await second.finished(reply.node.id)).state).toBe('done');
        const { removed } = await second.engine.clear({ kind: 'all' });
        expect(removed).toHaveLength(3);
      } finally {
        await second.cleanup();
      }
      // What /clear removed is gone from the server too.
      const store = await openNodeStore(server.url, createLogger('silent', []));
      try {
        expect((await store.load()).nodes).toEqual([]);
      } finally {
        await store.close();
      }
    },
  );

  it.skipIf(absent)('a server that is not listening is a start error naming the store', async () => {
    const server = await start();
    await server.stop();
    const error = await openNodeStore(server.url, createLogger('silent', []))
      .then((store) => store.probe().finally(() => store.close()))
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(StoreError);
    expect(String(error)).toContain(
      `SESSION_STORE_URL=${redactStoreUrl(server.url)}: the session store cannot be`,
    );
    expect(String(error)).toContain('Check that the server is running');
  });
});

describe('the PostgreSQL store when the server drops its connections', () => {
  it.skipIf(postgresMissing().length > 0)(
    'logs it, reconnects, and the next task is stored as usual',
    async () => {
      const server = await startPostgres(scratch);
      servers.push(server);
      const h = createHarness({ storeUrl: server.url });
      try {
        await h.engine.start();
        const first = await submitOk(h.engine, 'before the drop');
        expect((await h.finished(first.node.id)).state).toBe('done');
        // What a server restart or a maintenance job does to idle pooled connections.
        const admin = new pg.Client({ connectionString: server.url });
        await admin.connect();
        const { rowCount } = await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()',
        );
        await admin.end();
        expect(rowCount).toBeGreaterThan(0);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const second = await submitOk(h.engine, 'after the drop', first.origin);
        expect((await h.finished(second.node.id)).state).toBe('done');
        expect(h.engine.stats().store).toMatchObject({ writable: true, pendingWrites: 0 });
      } finally {
        await h.cleanup();
      }
      const store = await openNodeStore(server.url, createLogger('silent', []));
      try {
        expect((await store.load()).nodes.map((node) => node.prompt).sort()).toEqual([
          'after the drop',
          'before the drop',
        ]);
      } finally {
        await store.close();
      }
    },
  );
});

describe('two relays (two bots) sharing one PostgreSQL', () => {
  it('the store is split by a bot id from the token, with no setting; SQLite is left as it was', () => {
    const namespace = (env: Record<string, string>) =>
      loadConfig({ SESSION_STORE_URL: 'postgres://u@127.0.0.1/db', ...env }).sessions.storeNamespace;
    expect(namespace({ TELEGRAM_BOT_TOKEN: '123456:secret-part' })).toBe('telegram-123456');
    const discordId = Buffer.from('987654321').toString('base64');
    expect(namespace({ DISCORD_BOT_TOKEN: `${discordId}.Gx.secret` })).toBe('discord-987654321');
    // Adding Discord to a Telegram relay keeps its part of the store.
    expect(namespace({ TELEGRAM_BOT_TOKEN: '123456:s', DISCORD_BOT_TOKEN: `${discordId}.Gx.s` })).toBe(
      'telegram-123456',
    );
    expect(namespace({})).toBeUndefined();
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: '1:s' }).sessions.storeNamespace).toBeUndefined();
  });

  it.skipIf(postgresMissing().length > 0)(
    'each relay sees, restores and clears only its own conversations',
    async () => {
      const server = await startPostgres(scratch);
      servers.push(server);
      const relayFor = (token: string) =>
        createHarness({
          storeUrl: server.url,
          storeNamespace: loadConfig({ SESSION_STORE_URL: server.url, TELEGRAM_BOT_TOKEN: token }).sessions
            .storeNamespace,
        });
      const a = relayFor('111:bot-a-secret');
      const b = relayFor('222:bot-b-secret');
      await Promise.all([a.engine.start(), b.engine.start()]);
      const taskA = await submitOk(a.engine, 'task of bot A');
      const taskB = await submitOk(b.engine, 'task of bot B');
      expect((await a.finished(taskA.node.id)).state).toBe('done');
      expect((await b.finished(taskB.node.id)).state).toBe('done');
      await a.engine.close();
      await b.engine.close();

      const a2 = a.reopen();
      const b2 = b.reopen();
      try {
        await Promise.all([a2.engine.start(), b2.engine.start()]);
        expect(a2.engine.stats()).toMatchObject({ totalNodes: 1, trees: 1 });
        expect(a2.engine.getNode(taskA.node.id)?.prompt).toBe('task of bot A');
        expect(a2.engine.getNode(taskB.node.id)).toBeUndefined();
        expect(b2.engine.getNode(taskB.node.id)?.prompt).toBe('task of bot B');
        // /clear on bot B forgets bot B's conversations only.
        expect((await b2.engine.clear({ kind: 'all' })).removed.map((node) => node.id)).toEqual([
          taskB.node.id,
        ]);
      } finally {
        await a2.cleanup();
        await b2.cleanup();
      }
      const store = await openNodeStore(server.url, createLogger('silent', []), {
        namespace: 'telegram-111',
      });
      try {
        expect((await store.load()).nodes.map((node) => node.prompt)).toEqual(['task of bot A']);
      } finally {
        await store.close();
      }
    },
  );
});
