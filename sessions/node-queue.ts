import { isActive, stateEvent } from './node-model.js';
import type { Pool } from './pool.js';
import type { RunLifecycle } from './run-lifecycle.js';
import type { NodeSnapshot, Outcome, ProgressEvent } from './types.js';

// The engine's nodes in the pool: each waits as a `normal` entry behind the node it forks from (which may still
// change its session), hears its position as a `state` event, and runs through the run lifecycle once it has a
// slot. Counts only its own nodes, so it stays right when other callers share the pool.

export interface NodeQueueOptions {
  pool: Pool;
  runs: RunLifecycle;
  emit(node: NodeSnapshot, event: ProgressEvent): void;
  /** False until the engine has started: nothing is dispatched before. */
  started(): boolean;
  /** The node a reply forks from (the tree's view), to know what it waited for. */
  parentOf(node: NodeSnapshot): NodeSnapshot | undefined;
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
      // Queued under a task still at work: if that task then fails or is stopped, this one is not run.
      const parent = options.parentOf(node);
      const waitsOnParent = parent !== undefined && isActive(parent.state);
      const queued = pool.enqueue({
        id: node.id,
        priority: node.priority ?? 'chat',
        after: node.parentId,
        start() {
          waiting.delete(node.id);
          const skipped = waitsOnParent ? skipOutcome(options.parentOf(node)) : null;
          if (skipped) runs.skip(node, skipped);
          else runs.launch(node);
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

const PARENT_ENDED: Partial<Record<Outcome['kind'], string>> = {
  error: 'ended with an error',
  stopped: 'was stopped',
  timed_out: 'was stopped (no output)',
  crashed: 'crashed',
  interrupted: 'did not finish',
};

/** Why a reply that waited for `parent` is not run, or null when the parent finished its work. */
function skipOutcome(parent: NodeSnapshot | undefined): Outcome | null {
  const how = parent?.outcome ? PARENT_ENDED[parent.outcome.kind] : undefined;
  if (how === undefined) return null;
  return {
    kind: 'interrupted',
    reason: `Not run: the task it replies to ${how}. Reply to this message to run it anyway.`,
    skipped: true,
  };
}
