import { describe, expect, it } from 'vitest';
import { createSlots } from '../../src/voice/queue.js';

describe('createSlots', () => {
  it('runs at most `limit` at once and hands free slots over in arrival order', async () => {
    const slots = createSlots(1);
    const order: string[] = [];
    const first = await slots.acquire();
    const second = slots.acquire().then((release) => {
      order.push('second');
      return release;
    });
    const third = slots.acquire().then((release) => {
      order.push('third');
      return release;
    });
    expect(slots.waiting).toBe(2);
    first?.();
    (await second)?.();
    (await third)?.();
    expect(order).toEqual(['second', 'third']);
    expect(slots.active).toBe(0);
  });

  it('a waiter whose signal aborts leaves the line and never runs; the next one does', async () => {
    const slots = createSlots(1);
    const running = await slots.acquire();
    const controller = new AbortController();
    const cancelled = slots.acquire(controller.signal);
    const next = slots.acquire();
    controller.abort();
    expect(await cancelled).toBeNull();
    expect(slots.waiting).toBe(1);
    running?.();
    const release = await next;
    expect(release).toBeTypeOf('function');
    expect(slots.active).toBe(1);
  });

  it('releasing twice frees one slot only', async () => {
    const slots = createSlots(2);
    const a = await slots.acquire();
    await slots.acquire();
    a?.();
    a?.();
    expect(slots.active).toBe(1);
  });

  it('refuses a limit below 1 with the bad value named', () => {
    expect(() => createSlots(0)).toThrow(/at least 1, got 0/);
  });
});
