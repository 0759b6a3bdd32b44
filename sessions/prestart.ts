import { randomUUID } from 'node:crypto';
import type { CliRun } from './cli-runner.js';

// Pre-started CLI processes for new conversations. The CLI spends about half a second starting before it sends its
// first request; a process started earlier with the same arguments and directory, waiting for its first message,
// answers without that wait. A launch shape (arguments + directory) is kept warm once a new conversation has used
// it: `count` processes, replaced a moment after one is taken (not at once, so the new process does not compete
// for the CPU with the run that took the old one), dropped when the shape has gone unused for `idleMs`, and at
// most `maxShapes` shapes (the least recently used goes). A shape whose processes keep dying at once is given up.
// A process is handed out only once it has said it is ready (`spawn`'s `onReady`); one still starting stays (a
// task that finds none starts its own CLI). A shape given up stays given up until the pool closes.

export interface PrestartOptions {
  count: number;
  idleMs?: number;
  maxShapes?: number;
  refillDelayMs?: number;
  /** Told when a shape is given up, with why. */
  onGiveUp?(reason: string): void;
}

export interface Prestarted {
  run: CliRun;
  /** What the process carries as its node id (environment, proxy header) until a node takes it. */
  tag: string;
}

export interface PrestartPool {
  /** A waiting process of this shape that has said it is ready, if there is one. */
  take(key: string): Prestarted | undefined;
  /** This shape was used by a new conversation: keep it warm (`spawn` starts one waiting process). */
  want(key: string, spawn: Spawn): void;
  /** Processes started and ready now. */
  ready(): number;
  close(): void;
}

/** Starts one waiting process carrying `tag`, which calls `onReady` once it has started. */
export type Spawn = (tag: string, onReady: () => void) => CliRun;

interface Waiting extends Prestarted {
  startedAt: number;
  /** Set by the process's `onReady` (a line it prints later). */
  status: { ready: boolean };
}

interface Shape {
  spawn: Spawn;
  waiting: Waiting[];
  /** Processes that died before any task took them, soon after they started. */
  earlyDeaths: number;
  refill: NodeJS.Timeout | undefined;
  expiry: NodeJS.Timeout | undefined;
}

/** A process that dies this soon after its start, untaken, did not start properly. */
const EARLY_DEATH_MS = 10_000;
const MAX_EARLY_DEATHS = 3;

export function createPrestartPool(options: PrestartOptions): PrestartPool {
  const idleMs = options.idleMs ?? 10 * 60_000;
  const maxShapes = options.maxShapes ?? 3;
  const refillDelayMs = options.refillDelayMs ?? 1000;
  /** In order of use, the most recent last. */
  const shapes = new Map<string, Shape>();
  /** Shapes whose processes kept dying at once: not started again (each try would cost a CLI start). */
  const givenUp = new Set<string>();
  let closed = false;

  const drop = (key: string): void => {
    const shape = shapes.get(key);
    if (shape === undefined) return;
    shapes.delete(key);
    clearTimeout(shape.refill);
    clearTimeout(shape.expiry);
    for (const entry of shape.waiting.splice(0)) entry.run.kill();
  };

  const fill = (key: string, shape: Shape): void => {
    shape.refill = undefined;
    while (!closed && shapes.get(key) === shape && shape.waiting.length < options.count) {
      const tag = `prestart-${randomUUID()}`;
      const status = { ready: false };
      const run = shape.spawn(tag, () => {
        status.ready = true;
      });
      const entry: Waiting = { run, tag, startedAt: Date.now(), status };
      shape.waiting.push(entry);
      void entry.run.exit.then(() => {
        const index = shape.waiting.indexOf(entry);
        if (index === -1) return; // taken by a task, or dropped on purpose
        shape.waiting.splice(index, 1);
        if (Date.now() - entry.startedAt < EARLY_DEATH_MS && ++shape.earlyDeaths >= MAX_EARLY_DEATHS) {
          drop(key);
          givenUp.add(key);
          options.onGiveUp?.('pre-started CLI processes exited right after they started');
        }
      });
    }
  };

  return {
    take(key) {
      const waiting = shapes.get(key)?.waiting ?? [];
      const index = waiting.findIndex((entry) => entry.status.ready);
      return index === -1 ? undefined : waiting.splice(index, 1)[0];
    },
    want(key, spawn) {
      if (closed || givenUp.has(key)) return;
      let shape = shapes.get(key);
      if (shape === undefined) {
        shape = { spawn, waiting: [], earlyDeaths: 0, refill: undefined, expiry: undefined };
      } else shapes.delete(key);
      shapes.set(key, shape); // now the most recently used
      shape.spawn = spawn;
      for (const oldest of shapes.keys()) {
        if (shapes.size <= maxShapes) break;
        drop(oldest);
      }
      const current = shape;
      clearTimeout(current.expiry);
      current.expiry = setTimeout(() => drop(key), idleMs);
      current.expiry.unref();
      if (current.refill === undefined && current.waiting.length < options.count) {
        current.refill = setTimeout(() => fill(key, current), refillDelayMs);
        current.refill.unref();
      }
    },
    ready: () =>
      [...shapes.values()].reduce(
        (sum, shape) => sum + shape.waiting.filter((entry) => entry.status.ready).length,
        0,
      ),
    close() {
      closed = true;
      for (const key of [...shapes.keys()]) drop(key);
    },
  };
}
