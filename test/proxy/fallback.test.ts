import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProxyError } from '../../src/proxy/errors.js';
import { fallbackCause, watchWaits } from '../../src/proxy/fallback.js';
import { parseUpstreamChunk } from '../../src/proxy/openai-chunk.js';
import { createStreamTranslator } from '../../src/proxy/stream-translator.js';
import { BENCH_MS, conversationOf, createToolCallHealth } from '../../src/proxy/tool-call-health.js';
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

describe('malformed tool calls twice: the model is benched in that conversation', () => {
  const route = 'nvidia_nim/some-model';

  it('two malformed answers in a row bench it; a good one in between resets the count', () => {
    const health = createToolCallHealth();
    expect(health.record('s1', route, true)).toBe(false);
    expect(health.record('s1', route, false)).toBe(false);
    expect(health.record('s1', route, true)).toBe(false);
    expect(health.benched('s1', route)).toBe(false);
    expect(health.record('s1', route, true)).toBe(true);
    expect(health.benched('s1', route)).toBe(true);
    // Benched, it still answers when it is the last model of the tier: a further slip keeps the bench.
    expect(health.record('s1', route, true)).toBe(false);
    expect(health.benched('s1', route)).toBe(true);
  });

  it('only in that conversation and for that model, and only for a while', () => {
    let now = 0;
    const health = createToolCallHealth(() => now);
    health.record('s1', route, true);
    health.record('s1', route, true);
    expect(health.benched('s2', route)).toBe(false);
    expect(health.benched('s1', 'open_router/other')).toBe(false);
    now = BENCH_MS + 1;
    expect(health.benched('s1', route)).toBe(false);
  });

  it("tells the conversation by the CLI's session id, in both metadata forms", () => {
    const session = '51ccb32c-fb82-4588-b42b-4bac26c3f1a4';
    const json = JSON.stringify({ device_id: 'd', account_uuid: '', session_id: session });
    expect(conversationOf({ metadata: { user_id: json } })).toBe(session);
    expect(conversationOf({ metadata: { user_id: `user_abc_account__session_${session}` } })).toBe(session);
    expect(conversationOf({})).toBe('');
  });

  it('the translator counts calls whose arguments are not a JSON object; none at all is a good call', () => {
    const translate = (args: string[]) => {
      const t = createStreamTranslator({ messageId: 'm', model: 'x', inputTokens: 1, newToolId: () => 't' });
      t.start();
      for (const [index, part] of args.entries()) {
        const call = { index, id: `c${index}`, function: { name: 'Write', arguments: part } };
        t.push(parseUpstreamChunk({ choices: [{ index: 0, delta: { tool_calls: [call] } }] }));
      }
      t.end();
      return t.malformedToolCalls;
    };
    expect(translate(['{"file_path":"a"}', ''])).toBe(0);
    expect(translate(['{"file_path": "a", "content": "cut', '[1]', '{"ok":true}'])).toBe(2);
  });
});
