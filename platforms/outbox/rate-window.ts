import type { Clock } from '../../src/common/index.js';

// One chat's pace: at most `count` API calls in any rolling `windowMs`, and none while the platform asked us
// to wait (a 429's retry-after).

export interface Rate {
  count: number;
  windowMs: number;
}

export interface RateWindow {
  /** Waits until another call may start, and counts it as started. */
  waitForSlot(): Promise<void>;
  /**
   * The call that last started has its answer: it counts from now instead. The platform counts calls as they
   * arrive, and a call may arrive late (up to when its answer comes); spacing from the start alone let two calls
   * land 987 ms apart in a 1 s window (bench/chat.bench.ts).
   */
  finished(): void;
  /** No call starts before `waitMs` from now (a longer pause already in force stays). */
  pause(waitMs: number): void;
}

export function assertRate({ count, windowMs }: Rate): void {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`rate.count must be a positive integer, got ${count}`);
  if (!(windowMs > 0)) throw new RangeError(`rate.windowMs must be positive, got ${windowMs}`);
}

export function createRateWindow({ count, windowMs }: Rate, clock: Clock): RateWindow {
  /** When each of the last `count` calls started, or got its answer once it has. */
  const starts: number[] = [];
  let pausedUntil = 0;
  return {
    async waitForSlot() {
      for (;;) {
        const now = clock.now();
        const windowFree = starts.length < count ? now : (starts[starts.length - count] ?? 0) + windowMs;
        const at = Math.max(now, windowFree, pausedUntil);
        if (at <= now) break;
        await clock.sleep(at - now);
      }
      starts.push(clock.now());
      if (starts.length > count) starts.splice(0, starts.length - count);
    },
    finished() {
      if (starts.length > 0) starts[starts.length - 1] = clock.now();
    },
    pause(waitMs) {
      pausedUntil = Math.max(pausedUntil, clock.now() + waitMs);
    },
  };
}
