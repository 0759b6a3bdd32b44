import type { Logger } from '../src/log.js';
import type { CliProcessRecord } from './leftover-processes.js';
import { createNodeWriter, type NodeWriter, type NodeWriterStatus } from './node-writer.js';
import { briefError, type NodeStore, openNodeStore, StoreError } from './store.js';
import type { NodeSnapshot } from './types.js';

// The store as the engine uses it: opened at start, written through the node writer's two policies
// (node-writer.ts), and cleared nodes taken out. Once a node's removal begins no write of it may land, so a
// cleared node never comes back on a restart.

export interface NodeStorageOptions {
  url: string;
  logger: Logger;
  /** How long a write waits for a lock held elsewhere before failing (default 5 s). */
  busyTimeoutMs?: number;
  /** See StoreOptions.namespace. */
  namespace?: string | undefined;
  /** While the store refuses writes, how often the held states are retried (default 5 s). */
  retryMs?: number;
}

export interface NodeStorage {
  readonly opened: boolean;
  /** Opens the store and returns it, for the start's restore (restart.ts). */
  open(): Promise<NodeStore>;
  /** A new task: a StoreError when it cannot be stored, so the task is refused rather than lost. */
  mustWrite(node: NodeSnapshot): Promise<void>;
  /** A state change of an accepted node; a store that refuses it holds it for a retry instead of throwing. */
  write(node: NodeSnapshot): Promise<void>;
  /** A running node's CLI process (null: ended), stored with it so the next start can end one left running. */
  setProcess(nodeId: string, record: CliProcessRecord | null): void;
  /** Nodes out of the store, their writes dropped from now on; a StoreError (nothing changed) if it refuses. */
  remove(ids: string[]): Promise<void>;
  isRemoving(nodeId: string): boolean;
  /** The removed nodes are gone from the engine as well. */
  doneRemoving(ids: string[]): void;
  status(): NodeWriterStatus;
  close(): Promise<void>;
}

export function createNodeStorage(options: NodeStorageOptions): NodeStorage {
  const { logger } = options;
  let store: NodeStore | null = null;
  let writer: NodeWriter | null = null;
  const removing = new Set<string>();
  const processes = new Map<string, CliProcessRecord>();

  return {
    get opened() {
      return store !== null;
    },
    async open() {
      const opened = await openNodeStore(options.url, logger, {
        busyTimeoutMs: options.busyTimeoutMs,
        ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      });
      store = opened;
      writer = createNodeWriter({
        store: opened,
        logger,
        retryMs: options.retryMs ?? 5000,
        processOf: (nodeId) => processes.get(nodeId) ?? null,
      });
      return opened;
    },
    async mustWrite(node) {
      await writer?.mustWrite(node);
    },
    async write(node) {
      if (writer === null) throw new Error('session engine is not started');
      if (!removing.has(node.id)) await writer.write(node);
    },
    setProcess(nodeId, record) {
      if (record === null) processes.delete(nodeId);
      else processes.set(nodeId, record);
    },
    async remove(ids) {
      for (const id of ids) removing.add(id);
      try {
        await store?.remove(ids);
      } catch (error) {
        for (const id of ids) removing.delete(id);
        throw new StoreError(`could not clear: the session store cannot be written (${briefError(error)})`, {
          cause: error,
        });
      }
      writer?.forget(ids);
    },
    isRemoving: (nodeId) => removing.has(nodeId),
    doneRemoving(ids) {
      for (const id of ids) removing.delete(id);
    },
    status: () => writer?.status() ?? { writable: false, pendingWrites: 0, lastError: 'not started' },
    async close() {
      await writer?.close();
      await store?.close();
    },
  };
}
