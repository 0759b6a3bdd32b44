import { setTimeout as delay } from 'node:timers/promises';

// Time as a port: whatever waits (the outbox, the provider limiter) waits through this, so tests drive it
// with a fake clock.

export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep: async (ms: number, signal?: AbortSignal): Promise<void> => {
    await delay(Math.max(0, ms), undefined, signal ? { signal } : {});
  },
});
