import { ProxyError } from './errors.js';
import type { UpstreamWait } from './upstream.js';

// When a request may go to the next model of its tier's chain (MODEL_FALLBACKS): the provider failed before the
// answer began — a 5xx after its own retry, no answer in time, unreachable, rate-limited past what is waited out —
// or it has been waiting on a rate limit (or a free stream) longer than PROVIDER_FALLBACK_AFTER. A request's own
// faults (4xx) go to the client as before: another provider would refuse them too.

/**
 * Why the provider is left, in words for the task's status ("rate limited", "failing (HTTP 503)"), or null to not
 * fall back. Called only while nothing has been sent to the client.
 */
export function fallbackCause(error: unknown): string | null {
  if (!(error instanceof ProxyError)) return null;
  if (error.kind === 'rate_limited') return 'rate limited';
  // A broken answer to a whole (non-streamed) request, found before anything was sent.
  if (error.kind === 'upstream_protocol') return 'sending a broken answer';
  if (error.kind !== 'upstream_http') return null;
  const status = error.extra.upstreamStatus;
  if (status === undefined) return 'not answering';
  return status >= 500 ? `failing (HTTP ${status})` : null;
}

/** Raised inside an attempt that waited too long for its provider. */
export class WaitedTooLong extends Error {
  constructor(readonly seconds: number) {
    super(`waited ${seconds} s for the provider`);
  }
}

/**
 * Times an attempt's waits against one budget: the time spent waiting (for the rate window, a free stream, a
 * 429's Retry-After), summed over every wait of the attempt, the request's time at the provider not counted.
 * `expire` is called once the budget is spent, or at once when a wait announces it will outlast what is left.
 */
export function watchWaits(
  budgetMs: number,
  expire: () => void,
  now: () => number = Date.now,
): { onWait(wait: UpstreamWait): void; stop(): void } {
  let spentMs = 0;
  let since: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    expire();
  };
  return {
    onWait(wait) {
      if (done) return;
      if (wait.reason === 'over') {
        if (since !== null) spentMs += now() - since;
        since = null;
        clearTimeout(timer);
        return;
      }
      since ??= now();
      const left = budgetMs - spentMs - (now() - since);
      if (wait.delayMs !== null && wait.delayMs > left) return end();
      clearTimeout(timer);
      timer = setTimeout(end, Math.max(0, left));
    },
    stop() {
      done = true;
      clearTimeout(timer);
    },
  };
}
