import { type Clock, type LiveLimits, systemClock } from '../common/index.js';

// Per-provider pacing: a concurrency cap held for a whole stream, a rolling window counted per attempt,
// and a cool-down shared by every waiting request after an upstream 429. Everything queues; nothing is
// refused. Time is injected so the policy can be tested without sleeping.

export interface RateLimiter {
  /** Waits for a concurrency slot; the returned function releases it (idempotent). */
  enter(signal?: AbortSignal): Promise<() => void>;
  /**
   * Waits for the window and any cool-down; call before every upstream attempt. `onWait` hears of each wait
   * before it starts: its length and whether a 429's cool-down or the rolling window caused it.
   */
  pace(signal?: AbortSignal, onWait?: (ms: number, cause: 'cool_down' | 'window') => void): Promise<void>;
  /** Blocks every request of this provider for `ms`. */
  coolDown(ms: number): void;
  readonly waiting: number;
  readonly active: number;
  /** The state right now, for /stats: attempts inside the window, and how long a cool-down still blocks. */
  now(): LiveLimits;
}

export function createRateLimiter(
  limits: { requests: number; windowMs: number; maxConcurrency: number },
  clock: Clock = systemClock,
): RateLimiter {
  const grants: number[] = []; // start times of attempts inside the window, oldest first
  const queue: Array<() => void> = [];
  let active = 0;
  let blockedUntil = 0;

  function release(): void {
    const next = queue.shift();
    if (next) next();
    else active--;
  }

  return {
    get waiting() {
      return queue.length;
    },
    get active() {
      return active;
    },
    async enter(signal) {
      // A client already gone must not wait for a slot it will never use (an abort listener never fires for it).
      signal?.throwIfAborted();
      if (active < limits.maxConcurrency) active++;
      else {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            const at = queue.indexOf(grant);
            if (at !== -1) queue.splice(at, 1);
            reject(signal?.reason);
          };
          const grant = () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(); // the releasing request hands its slot over: `active` is unchanged
          };
          queue.push(grant);
          signal?.addEventListener('abort', onAbort, { once: true });
        });
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },
    async pace(signal, onWait) {
      for (;;) {
        const now = clock.now();
        if (now < blockedUntil) {
          onWait?.(blockedUntil - now, 'cool_down');
          await clock.sleep(blockedUntil - now, signal);
          continue;
        }
        while (grants.length > 0 && (grants[0] ?? 0) <= now - limits.windowMs) grants.shift();
        if (grants.length < limits.requests) {
          grants.push(now);
          return;
        }
        const wait = (grants[0] ?? now) + limits.windowMs - now;
        onWait?.(wait, 'window');
        await clock.sleep(wait, signal);
      }
    },
    coolDown(ms) {
      blockedUntil = Math.max(blockedUntil, clock.now() + ms);
    },
    now() {
      const now = clock.now();
      return {
        windowUsed: grants.filter((at) => at > now - limits.windowMs).length,
        windowLimit: limits.requests,
        windowMs: limits.windowMs,
        active,
        maxConcurrency: limits.maxConcurrency,
        waiting: queue.length,
        coolDownMs: Math.max(0, blockedUntil - now),
      };
    },
  };
}
