import { stateEvent } from './node-model.js';
import type { Pool } from './pool.js';
import type { RunLifecycle } from './run-lifecycle.js';
import type { NodeSnapshot, ProgressEvent } from './types.js';

// The engine's nodes in the pool: each waits as a `normal` entry behind the node it forks from (which may still
// change its session), hears its position as a `state` event, and runs through the run lifecycle once it has a
// slot. Counts only its own nodes, so it stays right when other callers share the pool.

export interface NodeQueueOptions {
  pool: Pool;
  runs: RunLifecycle;
  emit(node: NodeSnapshot, event: ProgressEvent): void;
  /** False until the engine has started: nothing is dispatched before. */
  started(): boolean;
}

export interface NodeQueue {
  /** Nodes waiting for a slot. */
  readonly waiting: number;
  /** Queues the node; it starts at the next `schedule` that finds it a slot. */
  add(node: NodeSnapshot): void;
  /** Starts what may start (nothing while the engine is closing), then tells waiting nodes their positions. */
  schedule(): void;
  /** Ends waiting nodes at once and running ones through their process; resolves when all are settled. */
  stop(nodes: NodeSnapshot[]): Promise<void>;
}

export function createNodeQueue(options: NodeQueueOptions): NodeQueue {
  const { pool, runs, emit } = options;
  const waiting = new Set<string>();

  const schedule = (): void => {
    if (options.started() && !runs.closing) pool.dispatch();
  };

  return {
    get waiting() {
      return waiting.size;
    },
    add(node) {
      const queued = pool.enqueue({
        id: node.id,
        priority: node.priority ?? 'chat',
        after: node.parentId,
        start() {
          waiting.delete(node.id);
          runs.launch(node);
        },
        onPosition(position) {
          node.queuePosition = position;
          emit(node, stateEvent(node));
        },
      });
      // The engine's own pool has no depth limit: a refusal means a pool shared with a limit, a wiring error.
      if (queued.kind === 'refused') {
        throw new Error(`session pool refused node ${node.id}: its queue is full`);
      }
      waiting.add(node.id);
    },
    schedule,
    async stop(nodes) {
      await Promise.all(
        nodes.map((node) => {
          if (!pool.withdraw(node.id)) return runs.stop(node.id);
          waiting.delete(node.id);
          return runs.stopWaiting(node);
        }),
      );
      schedule();
    },
  };
}
