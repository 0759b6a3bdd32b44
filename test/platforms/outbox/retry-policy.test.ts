import { describe, expect, it } from 'vitest';
import { ChatApiError } from '../../../platforms/outbox/index.js';
import { type Attempt, nextStep, retryLimit } from '../../../platforms/outbox/retry-policy.js';

// The outbox's retry policy alone: each failure kind, for each operation, decided from structured fields.

const fresh: Attempt = { formatted: true, retries: 0, rateLimits: 0 };

describe('retry policy', () => {
  it('waits out a 429 for the time the platform asked, or a doubling fallback, whatever the budget', () => {
    const limited = new ChatApiError('rate_limited', 'slow down', { retryAfterMs: 3000 });
    expect(nextStep(limited, 'send', { ...fresh, retries: 99 }, 0)).toEqual({ kind: 'pause', waitMs: 3000 });
    const silent = new ChatApiError('rate_limited', 'slow down');
    expect(nextStep(silent, 'edit', { ...fresh, rateLimits: 2 }, 10)).toEqual({
      kind: 'pause',
      waitMs: 4000,
    });
    expect(nextStep(silent, 'edit', { ...fresh, rateLimits: 20 }, 10)).toEqual({
      kind: 'pause',
      waitMs: 60_000,
    });
  });

  it('falls back to plain text once, and never for a delete', () => {
    const badFormat = new ChatApiError('bad_format', "can't parse entities");
    expect(nextStep(badFormat, 'send', fresh, 10)).toEqual({ kind: 'plain' });
    expect(nextStep(badFormat, 'send', { ...fresh, formatted: false }, 10)).toEqual({ kind: 'fail' });
    expect(nextStep(badFormat, 'delete', fresh, 10)).toEqual({ kind: 'fail' });
  });

  it('takes an unchanged edit and an already deleted message as done', () => {
    expect(nextStep(new ChatApiError('not_modified', 'same'), 'edit', fresh, 10)).toEqual({ kind: 'done' });
    expect(nextStep(new ChatApiError('not_modified', 'same'), 'send', fresh, 10)).toEqual({ kind: 'fail' });
    expect(nextStep(new ChatApiError('not_found', 'gone'), 'delete', fresh, 10)).toEqual({ kind: 'done' });
    expect(nextStep(new ChatApiError('not_found', 'gone'), 'edit', fresh, 10)).toEqual({ kind: 'fail' });
  });

  it('backs off server and network failures within the budget, capped at 30 s; anything else fails', () => {
    const server = new ChatApiError('server', 'bad gateway');
    expect(nextStep(server, 'send', fresh, 10)).toEqual({ kind: 'retry', waitMs: 1000 });
    expect(nextStep(new ChatApiError('network', 'reset'), 'send', { ...fresh, retries: 9 }, 10)).toEqual({
      kind: 'retry',
      waitMs: 30_000,
    });
    expect(nextStep(server, 'send', { ...fresh, retries: 10 }, 10)).toEqual({ kind: 'fail' });
    expect(nextStep(new ChatApiError('forbidden', 'no'), 'send', fresh, 10)).toEqual({ kind: 'fail' });
    expect(nextStep(new Error('not a chat API error'), 'send', fresh, 10)).toEqual({ kind: 'fail' });
  });

  it('allows at most two retries once the outbox is closing', () => {
    expect(retryLimit(10, false)).toBe(10);
    expect(retryLimit(10, true)).toBe(2);
    expect(retryLimit(1, true)).toBe(1);
  });
});
