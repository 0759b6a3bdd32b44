import type { EditOp, Op } from './ops.js';
import type { RateWindow } from './rate-window.js';

// One chat's operations in order, at the chat's pace. An op is taken only when its call may start, so edits
// arriving meanwhile still coalesce into the queued one.

export interface KeyQueue {
  readonly chatId: string;
  readonly rate: RateWindow;
  /** Queues an op at the back and starts draining when the queue was idle. */
  push(op: Op): void;
  /** Takes a queued (not started) edit of the message out, for a newer one to replace. */
  takeQueuedEdit(messageId: string): EditOp | undefined;
  /** A queued edit of the message that will run later, if any. */
  queuedEdit(messageId: string): EditOp | undefined;
  /** Every op not settled yet: the one in flight, then the queued ones. */
  unsettled(): Op[];
}

export interface KeyQueueOptions {
  chatId: string;
  rate: RateWindow;
  /** Runs one op to success or definitive failure; its first call's slot is already taken. */
  run(queue: KeyQueue, op: Op): Promise<void>;
  /** Fails an op that can no longer run. */
  fail(queue: KeyQueue, op: Op, error: unknown): void;
}

export function createKeyQueue(options: KeyQueueOptions): KeyQueue {
  const ops: Op[] = [];
  let inFlight: Op | null = null;
  let draining = false;

  const indexOfEdit = (messageId: string): number =>
    ops.findIndex((op) => op.kind === 'edit' && op.messageId === messageId);

  const drain = async (): Promise<void> => {
    try {
      while (ops.length > 0) {
        await queue.rate.waitForSlot();
        const op = ops.shift();
        if (!op) break;
        inFlight = op;
        await options.run(queue, op);
        inFlight = null;
      }
    } catch (error) {
      // Only a broken Clock gets here: fail what is left rather than hang every waiter.
      for (const op of [...(inFlight ? [inFlight] : []), ...ops.splice(0)]) options.fail(queue, op, error);
      inFlight = null;
    } finally {
      draining = false;
    }
  };

  const queue: KeyQueue = {
    chatId: options.chatId,
    rate: options.rate,
    push(op) {
      ops.push(op);
      if (!draining) {
        draining = true;
        void drain();
      }
    },
    takeQueuedEdit(messageId) {
      const index = indexOfEdit(messageId);
      const queued = ops[index];
      if (queued?.kind !== 'edit') return undefined;
      ops.splice(index, 1);
      return queued;
    },
    queuedEdit(messageId) {
      const queued = ops[indexOfEdit(messageId)];
      return queued?.kind === 'edit' ? queued : undefined;
    },
    unsettled: () => (inFlight ? [inFlight, ...ops] : [...ops]),
  };
  return queue;
}
