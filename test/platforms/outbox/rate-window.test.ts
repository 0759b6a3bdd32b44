import { describe, expect, it } from 'vitest';
import { createRateWindow } from '../../../platforms/outbox/rate-window.js';
import { createFakeClock, settle } from './fake-clock.js';

// The platform counts a chat's calls as they arrive, and a call may arrive any time until its answer comes: the
// next call waits a whole window from that answer, so no two can land inside one window.

describe('rate window', () => {
  it('the next call waits a whole window after the previous call was answered, not after it started', async () => {
    const clock = createFakeClock(0);
    const rate = createRateWindow({ count: 1, windowMs: 1000 }, clock);
    await rate.waitForSlot();
    await clock.advance(300); // the call is on its way for 300 ms
    rate.finished();
    let startedAt: number | null = null;
    const next = rate.waitForSlot().then(() => {
      startedAt = clock.now();
    });
    await clock.advance(900); // 1200 ms after the start, 900 after the answer: too early
    await settle();
    expect(startedAt).toBeNull();
    await clock.advance(100);
    await next;
    expect(startedAt).toBe(1300);
  });
});
