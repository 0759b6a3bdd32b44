import type { NodeState, ProgressEvent } from '../sessions/index.js';

// Which node the tracker follows, and what it knows about each node's events: the one owner of that state.
// Events can arrive before `submit` resolves (held until the node is followed), the final answer waits for the
// outcome event, and a node whose answer is out is never followed again.

/** What the ledger reads of a followed task (chats are compared by identity). */
export interface LedgerTask {
  readonly nodeId: string;
  readonly chat: unknown;
  readonly state: NodeState;
  finished: boolean;
}

export interface TaskLedger<Task extends LedgerTask> {
  get(nodeId: string): Task | undefined;
  follow(task: Task): void;
  /** The events of a node that were held while it was submitted (once). */
  takeHeld(nodeId: string): ProgressEvent[];
  /** Its final answer is out: a trailing event must not re-adopt the node and overwrite the answer. */
  isDelivered(nodeId: string): boolean;
  /** Runs a submit; meanwhile, events of nodes not followed yet are held. */
  submitting<T>(submit: () => Promise<T>): Promise<T>;
  /** An event of a node nobody follows: held while a submit is in flight (it may be that node's), else dropped. */
  hold(nodeId: string, event: ProgressEvent): void;
  /** A submit was refused: nothing held will be claimed. */
  dropHeld(): void;
  /** The outcome event was folded into the node's view: its final answer may go out. */
  sawOutcome(nodeId: string): void;
  /** When the outcome was seen: stops following the task and counts its answer as delivered; true if so. */
  finishOnOutcome(task: Task): boolean;
  /** Stops following cleared nodes for good; the chats that had one of them. */
  forget(nodeIds: readonly string[]): Set<Task['chat']>;
  /** Whether a task of the chat is running (for "typing…"). */
  hasRunning(chat: Task['chat']): boolean;
}

export function createTaskLedger<Task extends LedgerTask>(): TaskLedger<Task> {
  const tracked = new Map<string, Task>();
  let inFlight = 0;
  const held = new Map<string, ProgressEvent[]>();
  const outcomeSeen = new Set<string>();
  const delivered = new Set<string>();

  const stopFollowing = (task: Task): void => {
    outcomeSeen.delete(task.nodeId);
    delivered.add(task.nodeId);
    task.finished = true;
    tracked.delete(task.nodeId);
  };

  return {
    get: (nodeId) => tracked.get(nodeId),
    follow(task) {
      tracked.set(task.nodeId, task);
    },
    takeHeld(nodeId) {
      const events = held.get(nodeId) ?? [];
      held.delete(nodeId);
      // Whatever else is held belongs to no submit still in flight.
      if (inFlight === 0) held.clear();
      return events;
    },
    isDelivered: (nodeId) => delivered.has(nodeId),
    async submitting(submit) {
      inFlight += 1;
      try {
        return await submit();
      } finally {
        inFlight -= 1;
      }
    },
    hold(nodeId, event) {
      if (inFlight === 0) return;
      const list = held.get(nodeId) ?? [];
      list.push(event);
      held.set(nodeId, list);
    },
    dropHeld: () => held.clear(),
    sawOutcome: (nodeId) => outcomeSeen.add(nodeId),
    finishOnOutcome(task) {
      if (!outcomeSeen.has(task.nodeId)) return false;
      stopFollowing(task);
      return true;
    },
    forget(nodeIds) {
      const chats = new Set<Task['chat']>();
      for (const id of nodeIds) {
        outcomeSeen.delete(id);
        delivered.add(id);
        const task = tracked.get(id);
        if (!task) continue;
        stopFollowing(task);
        chats.add(task.chat);
      }
      return chats;
    },
    hasRunning: (chat) =>
      [...tracked.values()].some((task) => task.chat === chat && task.state === 'running' && !task.finished),
  };
}
