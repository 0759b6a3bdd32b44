import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPool, type Pool, type Priority } from '../../sessions/pool.js';

// The pool alone: no engine, no processes. Each test records what the pool started and which positions it told.

interface Recorder {
  started: string[];
  positions: Map<string, number[]>;
  add(id: string, priority?: Priority, after?: string | null): ReturnType<Pool['enqueue']>;
}

function recorder(pool: Pool): Recorder {
  const started: string[] = [];
  const positions = new Map<string, number[]>();
  return {
    started,
    positions,
    add: (id, priority = 'normal', after = null) =>
      pool.enqueue({
        id,
        priority,
        after,
        start: () => started.push(id),
        onPosition: (position) => positions.set(id, [...(positions.get(id) ?? []), position]),
      }),
  };
}

describe('pool', () => {
  it('runs at most maxRunning; a released slot goes to the next entry at the next dispatch', () => {
    const pool = createPool({ maxRunning: 2 });
    const r = recorder(pool);
    for (const id of ['a', 'b', 'c']) r.add(id);
    expect(r.started).toEqual([]);
    expect(pool.dispatch()).toEqual(['a', 'b']);
    expect(pool.counts()).toEqual({ running: 2, waiting: 1 });
    expect(pool.release('a')).toBe(true);
    expect(r.started).toEqual(['a', 'b']);
    expect(pool.dispatch()).toEqual(['c']);
    expect(pool.release('a')).toBe(false);
  });

  it('serves high before normal before low, whatever the arrival order', () => {
    const pool = createPool({ maxRunning: 1 });
    const r = recorder(pool);
    r.add('low', 'low');
    r.add('normal', 'normal');
    r.add('high', 'high');
    pool.dispatch();
    for (const id of ['high', 'normal']) {
      pool.release(id);
      pool.dispatch();
    }
    expect(r.started).toEqual(['high', 'normal', 'low']);
  });

  it('is first come, first served within a level', () => {
    const pool = createPool({ maxRunning: 1 });
    const r = recorder(pool);
    for (const id of ['n1', 'h1', 'n2', 'h2', 'n3']) r.add(id, id.startsWith('h') ? 'high' : 'normal');
    for (let i = 0; i < 5; i++) {
      const [id] = pool.dispatch();
      if (id !== undefined) pool.release(id);
    }
    expect(r.started).toEqual(['h1', 'h2', 'n1', 'n2', 'n3']);
  });

  it('an entry waits while the one it comes after is waiting or running; those behind it go first', () => {
    const pool = createPool({ maxRunning: 3 });
    const r = recorder(pool);
    r.add('parent');
    r.add('reply', 'high', 'parent');
    r.add('other');
    expect(pool.dispatch()).toEqual(['parent', 'other']);
    expect(pool.positionOf('reply')).toBe(1);
    pool.release('parent');
    expect(pool.dispatch()).toEqual(['reply']);
  });

  it('an entry after one the pool does not hold (finished, withdrawn, never there) may start', () => {
    const pool = createPool({ maxRunning: 2 });
    const r = recorder(pool);
    r.add('parent');
    r.add('reply', 'normal', 'parent');
    pool.withdraw('parent');
    r.add('orphan', 'normal', 'gone');
    expect(pool.dispatch()).toEqual(['reply', 'orphan']);
  });

  it('a full queue refuses with a typed result; running entries do not count and a withdrawal makes room', () => {
    const pool = createPool({ maxRunning: 1, maxWaiting: 2 });
    const r = recorder(pool);
    r.add('running');
    pool.dispatch();
    expect(r.add('w1')).toEqual({ kind: 'queued', position: 1 });
    expect(r.add('w2', 'high')).toEqual({ kind: 'queued', position: 1 });
    expect(r.add('w3', 'high')).toEqual({ kind: 'refused', reason: 'queue_full', maxWaiting: 2 });
    expect(pool.counts()).toEqual({ running: 1, waiting: 2 });
    expect(pool.withdraw('w1')).toBe(true);
    expect(r.add('w3').kind).toBe('queued');
  });

  it('tells 1-based places in the level, once per change, and nothing to entries that started', () => {
    const pool = createPool({ maxRunning: 1 });
    const r = recorder(pool);
    for (const id of ['a', 'b', 'c', 'd']) r.add(id);
    pool.dispatch();
    expect(Object.fromEntries(r.positions)).toEqual({ b: [1], c: [2], d: [3] });
    pool.dispatch();
    expect(Object.fromEntries(r.positions)).toEqual({ b: [1], c: [2], d: [3] });
    pool.release('a');
    pool.dispatch();
    expect(Object.fromEntries(r.positions)).toEqual({ b: [1], c: [2, 1], d: [3, 2] });
    expect(pool.positionOf('b')).toBeNull();
  });

  it('a high entry that arrives later does not move a waiting normal one back', () => {
    const pool = createPool({ maxRunning: 1 });
    const r = recorder(pool);
    r.add('busy');
    r.add('chat');
    pool.dispatch();
    r.add('api', 'high');
    pool.dispatch();
    expect(r.positions.get('chat')).toEqual([1]);
    expect(r.positions.get('api')).toEqual([1]);
  });

  it('refuses a second entry with the same id, and options that make no sense', () => {
    const pool = createPool({ maxRunning: 1 });
    const r = recorder(pool);
    r.add('a');
    expect(() => r.add('a')).toThrow(/already waiting or running/);
    pool.dispatch();
    expect(() => r.add('a')).toThrow(/already waiting or running/);
    expect(() => createPool({ maxRunning: 0 })).toThrow(TypeError);
    expect(() => createPool({ maxRunning: 1, maxWaiting: -1 })).toThrow(TypeError);
  });
});

const SEED = 20_261_203;

describe(`pool under any sequence of calls (fast-check seed ${SEED})`, () => {
  type Step =
    | { op: 'enqueue'; priority: Priority; afterPick: number | null }
    | { op: 'release' | 'withdraw'; pick: number }
    | { op: 'dispatch' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      op: fc.constant('enqueue' as const),
      priority: fc.constantFrom<Priority>('high', 'normal', 'low'),
      afterPick: fc.option(fc.nat(20)),
    }),
    fc.record({ op: fc.constantFrom('release' as const, 'withdraw' as const), pick: fc.nat(20) }),
    fc.record({ op: fc.constant('dispatch' as const) }),
  );

  it('never runs more than maxRunning, never moves a position back, starts each entry once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(step, { maxLength: 60 }), (maxRunning, steps) => {
        const pool = createPool({ maxRunning });
        const r = recorder(pool);
        const ids: string[] = [];
        for (const s of steps) {
          if (s.op === 'enqueue') {
            const id = `e${ids.length}`;
            r.add(
              id,
              s.priority,
              s.afterPick === null ? null : (ids[s.afterPick % (ids.length || 1)] ?? null),
            );
            ids.push(id);
          } else if (s.op === 'dispatch') pool.dispatch();
          else if (s.op === 'release') pool.release(ids[s.pick % (ids.length || 1)] ?? '');
          else pool.withdraw(ids[s.pick % (ids.length || 1)] ?? '');
          expect(pool.counts().running).toBeLessThanOrEqual(maxRunning);
        }
        expect(new Set(r.started).size).toBe(r.started.length);
        for (const told of r.positions.values()) {
          expect(told.every((position, at) => at === 0 || position < (told[at - 1] ?? 0))).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
