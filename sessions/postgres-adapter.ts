import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import pg from 'pg';

// A keyv adapter over one pg.Pool: the table and key layout of @keyv/postgres (`keyv`: key, value), but a pool
// whose errors are heard (a dropped idle connection must not take the relay down) and an iterator that throws
// when a query fails (a load that stopped half-way must not look like a store with fewer conversations).

const TABLE = 'keyv';

export interface PostgresAdapterOptions {
  /** How long connecting may take before a query fails. */
  connectionTimeoutMs: number;
  /** A pooled connection that broke while idle: the pool replaces it; this only hears of it. */
  onIdleError(error: Error): void;
}

export function createPostgresAdapter(url: string, options: PostgresAdapterOptions): KeyvStoreAdapter {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: options.connectionTimeoutMs });
  pool.on('error', options.onIdleError);
  let ready: Promise<void> | null = null;
  const query = async (sql: string, values: unknown[] = []): Promise<Array<Record<string, unknown>>> => {
    ready ??= pool
      .query(`CREATE TABLE IF NOT EXISTS ${TABLE}(key VARCHAR(255) PRIMARY KEY, value TEXT)`)
      .then(() => undefined)
      .catch((error: unknown) => {
        // Two relays starting at once on a fresh database: PostgreSQL's IF NOT EXISTS does not cover a
        // concurrent create, and the one that loses the race is told the type or table exists. It does.
        if (isRecord(error) && (error.code === '23505' || error.code === '42P07')) return;
        ready = null; // try again on the next query: the server may be back
        throw error;
      });
    await ready;
    return (await pool.query(sql, values)).rows;
  };
  const like = (namespace: string | undefined): string =>
    namespace ? `${namespace.replace(/[%_\\]/g, '\\$&')}:%` : '%';

  const adapter = Object.assign(new EventEmitter(), {
    opts: { dialect: 'postgres', url },
    namespace: undefined as string | undefined,
    async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
      const rows = await query(`SELECT value FROM ${TABLE} WHERE key = $1`, [key]);
      const value = rows[0]?.value;
      return typeof value === 'string' ? (value as StoredData<Value>) : undefined; // keyv deserializes it
    },
    async set(key: string, value: unknown): Promise<void> {
      await query(
        `INSERT INTO ${TABLE} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [key, value],
      );
    },
    async delete(key: string): Promise<boolean> {
      return (await query(`DELETE FROM ${TABLE} WHERE key = $1 RETURNING key`, [key])).length > 0;
    },
    async clear(): Promise<void> {
      await query(`DELETE FROM ${TABLE} WHERE key LIKE $1`, [like(adapter.namespace)]);
    },
    async *iterator(namespace?: string): AsyncGenerator<[string, string], void> {
      // Keyset pages, so a large store is never read into memory at once; a failed page throws.
      let after = '';
      for (;;) {
        const rows = await query(
          `SELECT key, value FROM ${TABLE} WHERE key LIKE $1 AND key > $2 ORDER BY key LIMIT 100`,
          [like(namespace), after],
        );
        for (const row of rows) {
          if (typeof row.key === 'string' && typeof row.value === 'string') yield [row.key, row.value];
        }
        const last = rows.at(-1)?.key;
        if (rows.length < 100 || typeof last !== 'string') return;
        after = last;
      }
    },
    async disconnect(): Promise<void> {
      await pool.end();
    },
  });
  return adapter;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
