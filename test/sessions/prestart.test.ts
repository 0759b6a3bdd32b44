import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliRun } from '../../sessions/cli-runner.js';
import { createPrestartPool } from '../../sessions/prestart.js';

// The pool's bookkeeping over stand-in processes (the real CLI taking a pre-started process is in the gateway's
// e2e test): how many wait, which shapes stay warm, and what is given up.

interface Stand {
  run: CliRun;
  killed: boolean;
  exit(): void;
}

function standIn(): Stand {
  let exit: () => void = () => undefined;
  const exited = new Promise<Awaited<CliRun['exit']>>((resolve) => {
    exit = () =>
      resolve({ exitCode: 0, signal: null, spawnError: null, stderr: '', termination: null, idleMs: 0 });
  });
  const stand: Stand = {
    killed: false,
    exit,
    run: {
      pid: 1,
      stop: () => undefined,
      kill: () => {
        stand.killed = true;
        exit();
      },
      send: () => true,
      endInput: () => undefined,
      holdIdle: () => undefined,
      begin: () => true,
      exit: exited,
    },
  };
  return stand;
}

describe('pre-started processes', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a shape in use is filled a moment later, taken once, and refilled after the next use', async () => {
    const spawned: Stand[] = [];
    let started: () => void = () => undefined;
    const spawn = (_tag: string, onReady: () => void) => {
      const stand = standIn();
      spawned.push(stand);
      started = onReady;
      return stand.run;
    };
    const pool = createPrestartPool({ count: 1, refillDelayMs: 1000 });
    expect(pool.take('sonnet')).toBeUndefined();
    pool.want('sonnet', spawn);
    expect(spawned).toHaveLength(0); // not while the run that asked is starting
    await vi.advanceTimersByTimeAsync(1000);
    expect(spawned).toHaveLength(1);
    expect(pool.ready()).toBe(0); // started, not ready yet: not handed out
    expect(pool.take('sonnet')).toBeUndefined();
    started();
    expect(pool.ready()).toBe(1);
    expect(pool.take('sonnet')?.run).toBe(spawned[0]?.run);
    expect(pool.take('sonnet')).toBeUndefined();
    expect(pool.take('opus')).toBeUndefined();
    pool.want('sonnet', spawn);
    await vi.advanceTimersByTimeAsync(1000);
    expect(spawned).toHaveLength(2);
    pool.close();
    expect(spawned[1]?.killed).toBe(true);
    expect(pool.ready()).toBe(0);
  });

  it('keeps at most maxShapes shapes (the least recently used goes) and drops one unused for idleMs', async () => {
    const spawned = new Map<string, Stand>();
    const spawnFor = (key: string) => (_tag: string, onReady: () => void) => {
      const stand = standIn();
      spawned.set(key, stand);
      onReady();
      return stand.run;
    };
    const pool = createPrestartPool({ count: 1, maxShapes: 2, idleMs: 60_000, refillDelayMs: 0 });
    pool.want('a', spawnFor('a'));
    pool.want('b', spawnFor('b'));
    await vi.advanceTimersByTimeAsync(1);
    pool.want('a', spawnFor('a'));
    pool.want('c', spawnFor('c'));
    await vi.advanceTimersByTimeAsync(1);
    expect(spawned.get('b')?.killed).toBe(true);
    expect(pool.ready()).toBe(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pool.ready()).toBe(0);
    expect(spawned.get('a')?.killed).toBe(true);
    expect(spawned.get('c')?.killed).toBe(true);
  });

  it('a shape whose processes die at once is given up after three, says why, and stays given up', async () => {
    const reasons: string[] = [];
    let spawns = 0;
    const pool = createPrestartPool({
      count: 1,
      refillDelayMs: 0,
      onGiveUp: (reason) => reasons.push(reason),
    });
    const dying = () => {
      spawns++;
      const stand = standIn();
      queueMicrotask(() => stand.exit());
      return stand.run;
    };
    for (let use = 0; use < 3; use++) {
      pool.want('broken', dying);
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(spawns).toBe(3);
    expect(reasons).toEqual(['pre-started CLI processes exited right after they started']);
    expect(pool.ready()).toBe(0);
    // Given up for good: later conversations of that shape start their own CLI, none is pre-started again.
    pool.want('broken', dying);
    await vi.advanceTimersByTimeAsync(1);
    expect(spawns).toBe(3);
  });
});
