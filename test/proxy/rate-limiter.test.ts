import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/common/index.js';
import { PROVIDERS } from '../../src/providers.js';
import { ProxyError } from '../../src/proxy/errors.js';
import { createRateLimiter } from '../../src/proxy/rate-limiter.js';
import { callUpstream, createUpstreamAgent } from '../../src/proxy/upstream.js';
import { type FakeUpstream, startFakeUpstream, textReply } from '../fakes/openai-upstream.js';

// The limiter's policy on an injected clock (no sleeps, no timed assertions): rolling window, concurrency
// queue, a cool-down shared by every waiter, and Retry-After honoured by the upstream call.

/** A clock that moves only when the test says so; sleepers wake in order of their deadline. */
function manualClock() {
  let now = 0;
  const sleepers: Array<{ at: number; wake(): void }> = [];
  const clock: Clock & { advance(ms: number): Promise<void> } = {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        const sleeper = { at: now + ms, wake: resolve };
        sleepers.push(sleeper);
        signal?.addEventListener('abort', () => {
          sleepers.splice(sleepers.indexOf(sleeper), 1);
          reject(signal.reason);
        });
      }),
    async advance(ms) {
      now += ms;
      for (const sleeper of sleepers.filter((s) => s.at <= now)) {
        sleepers.splice(sleepers.indexOf(sleeper), 1);
        sleeper.wake();
      }
      await settle();
    },
  };
  return clock;
}

/** Lets every resolved promise chain run (no time passes on the manual clock). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function tracked<T>(promise: Promise<T>) {
  const state = { done: false, value: undefined as T | undefined };
  promise.then((value) => {
    state.done = true;
    state.value = value;
  });
  return state;
}

describe('rate limiter', () => {
  it('lets `requests` attempts through per rolling window and queues the rest until the oldest expires', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ requests: 2, windowMs: 1000, maxConcurrency: 10 }, clock);
    await limiter.pace();
    await clock.advance(400);
    await limiter.pace();
    const third = tracked(limiter.pace());
    await settle();
    expect(third.done).toBe(false);
    await clock.advance(599); // the first grant is 999 ms old: still inside the window
    expect(third.done).toBe(false);
    await clock.advance(1);
    expect(third.done).toBe(true);
    const fourth = tracked(limiter.pace()); // window now holds grants at 400 and 1000
    await clock.advance(399);
    expect(fourth.done).toBe(false);
    await clock.advance(1);
    expect(fourth.done).toBe(true);
  });

  it('caps concurrency: extra requests wait in order, are never refused, and a released slot passes on', async () => {
    const limiter = createRateLimiter({ requests: 100, windowMs: 1000, maxConcurrency: 2 }, manualClock());
    const releaseA = await limiter.enter();
    const releaseB = await limiter.enter();
    const c = tracked(limiter.enter());
    const d = tracked(limiter.enter());
    await settle();
    expect([c.done, d.done, limiter.waiting, limiter.active]).toEqual([false, false, 2, 2]);
    releaseA();
    releaseA(); // idempotent: a double release must not free two slots
    await settle();
    expect([c.done, d.done, limiter.waiting, limiter.active]).toEqual([true, false, 1, 2]);
    releaseB();
    await settle();
    expect(d.done).toBe(true);
    c.value?.();
    d.value?.();
    expect(limiter.active).toBe(0);
  });

  it('drops a waiting request whose client went away, without taking a slot', async () => {
    const limiter = createRateLimiter({ requests: 100, windowMs: 1000, maxConcurrency: 1 }, manualClock());
    const release = await limiter.enter();
    const gone = new AbortController();
    const waiting = limiter.enter(gone.signal);
    gone.abort(new Error('client disconnected'));
    await expect(waiting).rejects.toThrow('client disconnected');
    expect(limiter.waiting).toBe(0);
    release();
    expect(limiter.active).toBe(0);
  });

  it('refuses at once a request whose client is already gone, and never queues it', async () => {
    const limiter = createRateLimiter({ requests: 100, windowMs: 1000, maxConcurrency: 1 }, manualClock());
    const release = await limiter.enter();
    const gone = new AbortController();
    gone.abort(new Error('client disconnected'));
    await expect(limiter.enter(gone.signal)).rejects.toThrow('client disconnected');
    expect(limiter.waiting).toBe(0);
    release();
    expect(limiter.active).toBe(0);
  });

  it('shares a cool-down: every waiter of the provider resumes only when it ends', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ requests: 100, windowMs: 1000, maxConcurrency: 10 }, clock);
    limiter.coolDown(5000);
    const a = tracked(limiter.pace());
    const b = tracked(limiter.pace());
    limiter.coolDown(2000); // a shorter cool-down never shortens the running one
    await clock.advance(4999);
    expect([a.done, b.done]).toEqual([false, false]);
    await clock.advance(1);
    expect([a.done, b.done]).toEqual([true, true]);
  });

  it('tells a waiter how long it waits and why, before it waits; a request let through hears nothing', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ requests: 1, windowMs: 1000, maxConcurrency: 10 }, clock);
    const heard: Array<[number, string]> = [];
    const onWait = (ms: number, cause: string) => heard.push([ms, cause]);
    await limiter.pace(undefined, onWait);
    expect(heard).toEqual([]);
    await clock.advance(300);
    const second = tracked(limiter.pace(undefined, onWait));
    await settle();
    expect(heard).toEqual([[700, 'window']]);
    await clock.advance(700);
    expect(second.done).toBe(true);
    limiter.coolDown(4000);
    const third = tracked(limiter.pace(undefined, onWait));
    await settle();
    expect(heard.at(-1)).toEqual([4000, 'cool_down']);
    await clock.advance(4000);
    expect(third.done).toBe(true);
  });
});

describe('upstream call on 429', () => {
  let upstream: FakeUpstream | undefined;
  const agent = createUpstreamAgent({ readMs: 10_000, writeMs: 10_000, connectMs: 10_000 });
  afterEach(async () => {
    await upstream?.close();
    upstream = undefined;
  });
  afterAll(() => agent.close());

  /** A clock whose sleeps return at once but are recorded (and move `now`). */
  function jumpingClock() {
    const slept: number[] = [];
    let now = 0;
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    };
    return { clock, slept };
  }

  async function call(limits = { requests: 100, windowMs: 60_000, maxConcurrency: 5 }) {
    const { clock, slept } = jumpingClock();
    const limiter = createRateLimiter(limits, clock);
    let rateLimited = 0;
    const run = callUpstream(
      {
        provider: PROVIDERS.openai,
        settings: {
          id: 'openai',
          protocol: 'openai-chat',
          baseUrl: upstream?.url ?? '',
          apiKey: 'k',
          requestFields: {},
          userFields: {},
        },
        body: '{"model":"m","messages":[]}',
        signal: new AbortController().signal,
        limiter,
        onRateLimited: () => rateLimited++,
      },
      agent,
      clock,
      10_000,
      () => 0, // no jitter: delays are exact
    );
    return { run, slept, limiter, rateLimits: () => rateLimited };
  }

  it('waits exactly what Retry-After says (seconds or HTTP date), then succeeds', async () => {
    upstream = await startFakeUpstream((req) =>
      req.index === 0
        ? { kind: 'error', status: 429, headers: { 'retry-after': '7' } }
        : req.index === 1
          ? // An HTTP date, read against the injected clock (which is at 7 s by then): 3 s from now.
            { kind: 'error', status: 429, headers: { 'retry-after': new Date(10_000).toUTCString() } }
          : textReply('ok'),
    );
    const { run, slept, rateLimits } = await call();
    const answer = await run;
    expect(answer.status).toBe(200);
    expect(slept).toEqual([7000, 3000]);
    expect(rateLimits()).toBe(2);
    expect(upstream.requests).toHaveLength(3);
  }, 20_000);

  it('backs off exponentially without Retry-After and finally answers 429 with retry-after for the CLI', async () => {
    upstream = await startFakeUpstream(() => ({ kind: 'error', status: 429 }));
    const { run, slept, rateLimits } = await call();
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({ status: 429, type: 'rate_limit_error', extra: { retryAfterMs: 8000 } });
    expect(slept).toEqual([1000, 2000, 4000]);
    expect(rateLimits()).toBe(4);
  });

  it('hands a long Retry-After straight to the client instead of holding the request', async () => {
    upstream = await startFakeUpstream(() => ({
      kind: 'error',
      status: 429,
      headers: { 'retry-after': '120' },
    }));
    const { run, slept, limiter } = await call();
    await expect(run).rejects.toMatchObject({ status: 429, extra: { retryAfterMs: 120_000 } });
    expect(slept).toEqual([]);
    // …but the provider still cools down for everyone else.
    await limiter.pace();
    expect(slept).toEqual([120_000]);
  });
});
