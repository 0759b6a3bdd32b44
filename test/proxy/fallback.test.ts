import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProxyError } from '../../src/proxy/errors.js';
import { fallbackCause, watchWaits } from '../../src/proxy/fallback.js';
import type { UpstreamWait } from '../../src/proxy/upstream.js';

const wait = (reason: UpstreamWait['reason'], delayMs: number | null = null): UpstreamWait => ({
  reason,
  delayMs,
  attempt: null,
  maxRetries: null,
});

describe('PROVIDER_FALLBACK_AFTER: one budget for all the waits of an attempt', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sums the waits, not the time at the provider, and gives up when they reach the budget', () => {
    const expire = vi.fn();
    const watch = watchWaits(1000, expire, () => Date.now());
    watch.onWait(wait('busy'));
    vi.advanceTimersByTime(600);
    watch.onWait(wait('over'));
    vi.advanceTimersByTime(5000); // the request at the provider: not a wait
    expect(expire).not.toHaveBeenCalled();
    watch.onWait(wait('rate_window', null));
    vi.advanceTimersByTime(399);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expire).toHaveBeenCalledTimes(1);
  });

  it('gives up at once when a wait says it will outlast what is left (a 429 Retry-After after another)', () => {
    const expire = vi.fn();
    const watch = watchWaits(30_000, expire, () => Date.now());
    watch.onWait(wait('rate_limited', 20_000));
    vi.advanceTimersByTime(20_000);
    watch.onWait(wait('over'));
    watch.onWait(wait('rate_limited', 20_000)); // 10 s left
    expect(expire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(expire).toHaveBeenCalledTimes(1);
  });

  it('stops timing once the answer began', () => {
    const expire = vi.fn();
    const watch = watchWaits(1000, expire, () => Date.now());
    watch.onWait(wait('busy'));
    watch.stop();
    vi.advanceTimersByTime(5000);
    expect(expire).not.toHaveBeenCalled();
  });
});

describe('which failures hand a request on', () => {
  it('a 5xx, no answer, a rate limit or a broken whole answer do; a request the provider refuses does not', () => {
    const upstream = (status?: number) =>
      new ProxyError(
        'upstream_http',
        529,
        'overloaded_error',
        'x',
        status === undefined ? {} : { upstreamStatus: status },
      );
    expect(fallbackCause(upstream(503))).toBe('failing (HTTP 503)');
    expect(fallbackCause(upstream())).toBe('not answering');
    expect(fallbackCause(new ProxyError('rate_limited', 429, 'rate_limit_error', 'x'))).toBe('rate limited');
    expect(fallbackCause(new ProxyError('upstream_protocol', 529, 'api_error', 'x'))).toBe(
      'sending a broken answer',
    );
    expect(fallbackCause(upstream(404))).toBeNull();
    expect(fallbackCause(new ProxyError('client_request', 400, 'invalid_request_error', 'x'))).toBeNull();
    expect(fallbackCause(new Error('client disconnected'))).toBeNull();
  });
});
