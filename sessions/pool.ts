// Who may run now. Entries wait in one queue ordered by priority (`chat` first, then `high`, `normal`, `low`
// for API requests; first come, first served within a level) and at most `maxRunning` of them run at once. An entry may name another it comes
// `after`: it waits while that one is still waiting or running here (a reply waits for the node it forks, which
// may still change its session). Pure: no timers, no I/O. Nothing starts by itself; `dispatch` fills the free
// slots by calling each chosen entry's `start`, so the caller decides when (the engine dispatches after a run's
// outcome is told, so the next task's events come after it). Each entry carries its own callbacks, so several
// kinds of callers (chat tasks today, a gateway's API requests later) can share one set of slots.
//
// Positions: an entry's 1-based place among the waiting entries of its own level. Entries only leave a level
// or join at its end, so a position never grows; a higher level may be served first but is not counted, which
// is why a waiting entry is never told it moved back. Chat tasks are all `chat`, the first level: their
// position is their place in the queue, as it always was, and API requests never push them back.

export type Priority = 'chat' | 'high' | 'normal' | 'low';

const LEVELS: readonly Priority[] = ['chat', 'high', 'normal', 'low'];

export interface PoolEntry {
  /** Unique among the entries waiting or running in this pool. */
  id: string;
  priority: Priority;
  /** An entry this one waits for while it is still waiting or running here. */
  after?: string | null;
  /** Called once, from `dispatch`, when the entry takes a slot. */
  start(): void;
  /** Called from `dispatch` with the entry's position whenever it differs from the last one given. */
  onPosition?(position: number): void;
}

/** A full queue is an answer, not an error: the caller tells its user to try again later. */
export type EnqueueResult =
  | { kind: 'queued'; position: number }
  | { kind: 'refused'; reason: 'queue_full'; maxWaiting: number };

export interface PoolCounts {
  running: number;
  waiting: number;
}

export interface PoolOptions {
  /** How many entries may run at once (`MAX_CLI_SESSIONS` for chat). */
  maxRunning: number;
  /** How many may wait; the next is refused. No limit when left out. */
  maxWaiting?: number;
}

export interface Pool {
  readonly maxRunning: number;
  /** Adds an entry at the end of its level; it starts only at a later `dispatch`. */
  enqueue(entry: PoolEntry): EnqueueResult;
  /** Takes a waiting entry out without starting it; false when it is not waiting. */
  withdraw(id: string): boolean;
  /** A running entry has ended and its slot is free for the next `dispatch`; false when it was not running. */
  release(id: string): boolean;
  /** Starts entries while slots are free, then tells waiting ones whose position changed; returns those started. */
  dispatch(): string[];
  /** The entry's position while it waits, else null. */
  positionOf(id: string): number | null;
  counts(): PoolCounts;
}

interface Waiting {
  entry: PoolEntry;
  /** The position last given to `onPosition`. */
  told: number | null;
}

export function createPool(options: PoolOptions): Pool {
  const { maxRunning, maxWaiting } = options;
  if (!Number.isInteger(maxRunning) || maxRunning < 1) {
    throw new TypeError(`createPool: maxRunning must be an integer of at least 1, not ${maxRunning}`);
  }
  if (maxWaiting !== undefined && (!Number.isInteger(maxWaiting) || maxWaiting < 0)) {
    throw new TypeError(
      `createPool: maxWaiting must be an integer of at least 0 or left out, not ${maxWaiting}`,
    );
  }
  const levels: Record<Priority, Waiting[]> = { chat: [], high: [], normal: [], low: [] };
  const waiting = new Map<string, Waiting>();
  const running = new Set<string>();

  const isHeld = (entry: PoolEntry): boolean => {
    const after = entry.after ?? null;
    return after !== null && (waiting.has(after) || running.has(after));
  };

  const take = (item: Waiting): void => {
    const level = levels[item.entry.priority];
    level.splice(level.indexOf(item), 1);
    waiting.delete(item.entry.id);
  };

  const firstReady = (): Waiting | undefined => {
    for (const priority of LEVELS) {
      const item = levels[priority].find((candidate) => !isHeld(candidate.entry));
      if (item !== undefined) return item;
    }
    return undefined;
  };

  const tellPositions = (): void => {
    for (const priority of LEVELS) {
      levels[priority].forEach((item, at) => {
        if (item.told === at + 1) return;
        item.told = at + 1;
        item.entry.onPosition?.(at + 1);
      });
    }
  };

  return {
    maxRunning,
    enqueue(entry) {
      if (waiting.has(entry.id) || running.has(entry.id)) {
        throw new Error(`pool: entry ${entry.id} is already waiting or running`);
      }
      if (maxWaiting !== undefined && waiting.size >= maxWaiting) {
        return { kind: 'refused', reason: 'queue_full', maxWaiting };
      }
      const item: Waiting = { entry, told: null };
      levels[entry.priority].push(item);
      waiting.set(entry.id, item);
      return { kind: 'queued', position: levels[entry.priority].length };
    },
    withdraw(id) {
      const item = waiting.get(id);
      if (item === undefined) return false;
      take(item);
      return true;
    },
    release(id) {
      return running.delete(id);
    },
    dispatch() {
      const started: string[] = [];
      while (running.size < maxRunning) {
        const item = firstReady();
        if (item === undefined) break;
        take(item);
        running.add(item.entry.id);
        started.push(item.entry.id);
        item.entry.start();
      }
      tellPositions();
      return started;
    },
    positionOf(id) {
      const item = waiting.get(id);
      return item === undefined ? null : levels[item.entry.priority].indexOf(item) + 1;
    },
    counts() {
      return { running: running.size, waiting: waiting.size };
    },
  };
}
