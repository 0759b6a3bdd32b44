import type { Clock } from '../../../platforms/outbox/index.js';

// A manual clock: time moves only when the test says so, and sleepers wake in time order.

export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, waking each sleeper at its own moment and letting promises settle. */
  advance(ms: number): Promise<void>;
  /** Advances to each pending wake-up in turn until nothing sleeps any more (bounded). */
  runAll(maxSteps?: number): Promise<void>;
  pendingSleepers(): number;
}

export const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

export function createFakeClock(start = 1_000_000): FakeClock {
  let now = start;
  let sequence = 0;
  const sleepers: Array<{ at: number; order: number; wake: () => void }> = [];

  const wakeDue = (): boolean => {
    sleepers.sort((a, b) => a.at - b.at || a.order - b.order);
    const due = sleepers.filter((s) => s.at <= now);
    if (due.length === 0) return false;
    sleepers.splice(0, due.length);
    for (const s of due) s.wake();
    return true;
  };

  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        const entry = { at: now + Math.max(0, ms), order: sequence++, wake: resolve };
        sleepers.push(entry);
        signal?.addEventListener('abort', () => {
          sleepers.splice(sleepers.indexOf(entry), 1);
          reject(signal.reason);
        });
      });
    },
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        const next = sleepers.reduce((min, s) => Math.min(min, s.at), Number.POSITIVE_INFINITY);
        if (next > target) break;
        now = Math.max(now, next);
        wakeDue();
        await settle();
      }
      now = target;
      await settle();
    },
    async runAll(maxSteps = 100_000) {
      await settle();
      for (let step = 0; step < maxSteps && sleepers.length > 0; step++) {
        now = Math.max(
          now,
          sleepers.reduce((min, s) => Math.min(min, s.at), Number.POSITIVE_INFINITY),
        );
        wakeDue();
        await settle();
      }
      if (sleepers.length > 0) throw new Error(`still ${sleepers.length} sleepers after ${maxSteps} steps`);
    },
    pendingSleepers: () => sleepers.length,
  };
}
