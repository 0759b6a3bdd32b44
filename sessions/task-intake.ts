import { randomUUID } from 'node:crypto';
import type { Clock } from '../src/common/index.js';
import type { Logger } from '../src/log.js';
import { isForkable, newNode, snapshotOf } from './node-model.js';
import type { NodeQueue } from './node-queue.js';
import type { NodeStorage } from './node-storage.js';
import { briefError, redactStoreUrl } from './store.js';
import type { ConversationTree } from './tree.js';
import type { MessageRef, MessageRole, NodeSnapshot, SubmitResult, TaskInput } from './types.js';

// What comes in from chat: tasks, and the bot messages that become part of a node. A task must say something,
// fit the limit and not be a message that already is one; a reply to a node's message becomes its child, any
// other message a new tree. It is stored before it is acknowledged (or refused with the reason), then queued.

export interface TaskIntakeOptions {
  tree: ConversationTree;
  queue: NodeQueue;
  storage: NodeStorage;
  /** Stores an accepted node's change (run-lifecycle.ts `persist`). */
  persist(node: NodeSnapshot): Promise<void>;
  /** New trees work here. */
  workspace: string;
  /** Named (without credentials) in the log when a task cannot be stored. */
  storeUrl: string;
  clock: Clock;
  logger: Logger;
  /** False before the engine starts and once it closes. */
  accepting(): boolean;
  /** A reply to this parent will share its directory (worktrees on, no git repository): the user is told. */
  sharesDirectory?(parent: NodeSnapshot): Promise<boolean>;
}

export interface TaskIntake {
  submit(task: TaskInput): Promise<SubmitResult>;
  linkMessage(nodeId: string, ref: MessageRef, role: MessageRole): Promise<void>;
}

/** Prompts travel over stdin, so the argv limit does not apply; this only bounds memory and the store. */
const MAX_PROMPT_CHARS = 1_000_000;

export function createTaskIntake(options: TaskIntakeOptions): TaskIntake {
  const { tree, queue, logger } = options;

  return {
    async submit(task) {
      if (!options.accepting()) return { kind: 'rejected', reason: 'The session engine is not running.' };
      const problem =
        promptProblem(task.prompt) ??
        (tree.findByRef(task.origin) === undefined ? null : 'This message is already a task.');
      if (problem !== null) return { kind: 'rejected', reason: problem };
      // A reply to a message no node owns starts a new conversation, as a message that is no reply does.
      const repliedTo = task.replyTo === null ? undefined : tree.findByRef(task.replyTo);
      // A reply to a task that was never run (its parent failed) runs it anyway, where it would have run.
      const skipped = repliedTo?.outcome?.kind === 'interrupted' && repliedTo.outcome.skipped === true;
      const parent = skipped && repliedTo ? tree.parentOf(repliedTo) : repliedTo;
      const node = newNode({
        id: randomUUID(),
        task: skipped && repliedTo ? { ...task, prompt: `${repliedTo.prompt}\n\n${task.prompt}` } : task,
        parent,
        workspace: options.workspace,
        now: options.clock.now(),
        queuePosition: queue.waiting + 1,
      });
      try {
        await options.storage.mustWrite(node);
      } catch (error) {
        logger.error(
          { err: error, url: redactStoreUrl(options.storeUrl) },
          'task rejected: store not writable',
        );
        return { kind: 'rejected', reason: storeRejection(error) };
      }
      tree.add(node);
      node.queuePosition = null; // told (and set) by the pool unless it starts at once
      queue.add(node);
      queue.schedule();
      const forkedFrom = parent !== undefined && isForkable(parent) ? snapshotOf(parent) : null;
      const shared = parent !== undefined && (await options.sharesDirectory?.(parent)) === true;
      return {
        kind: 'accepted',
        node: snapshotOf(node),
        forkedFrom,
        ...(shared ? { sharedDirectory: true } : {}),
      };
    },

    async linkMessage(nodeId, ref, role) {
      const linked = tree.link(nodeId, ref, role);
      if (linked.kind === 'linked') {
        // Indexed at once, so a reply forks this node even while the store is refusing writes (then retried).
        await options.persist(linked.node);
      } else if (linked.owner !== nodeId) {
        logger.warn({ nodeId, owner: linked.owner }, 'message already belongs to another node');
      }
    },
  };
}

/** Why a prompt cannot be a task, or null. */
function promptProblem(prompt: string): string | null {
  if (prompt.trim() === '') return 'The task is empty: write what Claude should do.';
  if (prompt.length > MAX_PROMPT_CHARS) {
    return `The task is too long (${prompt.length} characters, at most ${MAX_PROMPT_CHARS}).`;
  }
  return null;
}

function storeRejection(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  return (
    `The task was not started: the relay cannot save it right now (session store: ${briefError(cause)}). ` +
    'Send it again in a moment; tasks already running go on.'
  );
}
