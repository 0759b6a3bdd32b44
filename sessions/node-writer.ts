import type { Logger } from '../src/log.js';
import type { CliProcessRecord } from './leftover-processes.js';
import { snapshotOf } from './node-model.js';
import { briefError, type NodeStore, StoreError } from './store.js';
import type { NodeSnapshot } from './types.js';

// Writes nodes to the store with two policies, so a store that stops accepting writes (a lock held by another
// process, a full disk, an I/O error) neither loses nor misreports a task, nor crashes the engine:
// - `mustWrite` is for what the user is about to be told was accepted (a new task): it throws, so the task is
//   rejected with the reason instead of being acknowledged and then lost;
// - `write` is for state changes of tasks already accepted (started, session id known, finished, a linked
//   message): a failed write is kept (the latest state per node) and retried every `retryMs` and before the next
//   `mustWrite`, while the run goes on and its events still reach the user.
// "Recovered" means: a retry or a new task's write succeeds; every state held meanwhile is then written and new
// tasks are accepted again. If the relay exits before that, the store keeps the last state it had (a task that
// finished meanwhile then reads as interrupted on the next start, never as done without an answer).

export interface NodeWriterStatus {
  writable: boolean;
  pendingWrites: number;
  lastError: string | null;
}

export interface NodeWriter {
  mustWrite(node: NodeSnapshot): Promise<void>;
  write(node: NodeSnapshot): Promise<void>;
  /** Nodes removed from the store: nothing of theirs is written any more. */
  forget(ids: Iterable<string>): void;
  status(): NodeWriterStatus;
  /** A last flush attempt and no more retries; returns how many states could not be written. */
  close(): Promise<number>;
}

export function createNodeWriter(options: {
  store: NodeStore;
  logger: Logger;
  retryMs: number;
  processOf(nodeId: string): CliProcessRecord | null;
}): NodeWriter {
  const { store, logger } = options;
  /** Live node objects whose latest state is not stored yet: a retry writes whatever they hold by then. */
  const pending = new Map<string, NodeSnapshot>();
  let lastError: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const save = (node: NodeSnapshot): Promise<void> =>
    store.save(snapshotOf(node), options.processOf(node.id));

  const failed = (error: unknown): void => {
    const wasWritable = lastError === null;
    lastError = briefError(error);
    if (wasWritable) logger.error({ err: error }, 'session store write failed; keeping states to retry');
    if (timer === null && !closed) {
      // A failed retry is already logged and its states kept by `failed`; the next tick tries again.
      timer = setInterval(() => void flush().catch(() => undefined), options.retryMs);
      timer.unref();
    }
  };

  /** Writes every pending state; throws on the first failure (the rest stay pending). */
  const flush = async (): Promise<void> => {
    // Nothing held, but the last write failed: only a real write shows the store is back.
    if (pending.size === 0 && lastError !== null) {
      try {
        await store.probe();
      } catch (error) {
        failed(error);
        throw error;
      }
    }
    for (const [id, node] of pending) {
      try {
        await save(node);
      } catch (error) {
        failed(error);
        throw error;
      }
      pending.delete(id);
    }
    if (lastError !== null) logger.info('session store writable again; held states written');
    lastError = null;
    if (timer !== null) clearInterval(timer);
    timer = null;
  };

  return {
    async mustWrite(node) {
      try {
        await flush();
        await save(node);
      } catch (error) {
        if (lastError === null) failed(error);
        throw new StoreError(`the session store cannot be written (${briefError(error)})`, { cause: error });
      }
    },
    async write(node) {
      pending.set(node.id, node);
      // While the store is failing, only the retry writes: a write per event would each wait for a lock.
      if (lastError !== null) return;
      try {
        await flush();
      } catch {
        // Kept in `pending`; `failed` logged it and scheduled the retry.
      }
    },
    forget(ids) {
      for (const id of ids) pending.delete(id);
    },
    status() {
      return { writable: lastError === null, pendingWrites: pending.size, lastError };
    },
    async close() {
      closed = true;
      if (timer !== null) clearInterval(timer);
      timer = null;
      // What this last flush cannot write is counted, logged and returned just below.
      if (pending.size > 0) await flush().catch(() => undefined);
      if (pending.size > 0) {
        logger.error({ unwritten: pending.size }, 'session store: states not written at shutdown');
      }
      return pending.size;
    },
  };
}
