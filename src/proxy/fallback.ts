import { ProxyError } from './errors.js';
import type { UpstreamWait } from './upstream.js';

// When a request may go to the next model of its tier's chain (MODEL_FALLBACKS): the provider failed before the
// answer began — a 5xx after its own retry, no answer in time, unreachable, rate-limited past what is waited out —
// or it has been waiting on a rate limit (or a free stream) longer than PROVIDER_FALLBACK_AFTER. A request's own
// faults (4xx) go to the client as before: another provider would refuse them too.

/** Why the provider is left, in words for the task's status ("rate limited for 30 s"), or null to not fall back. */
export function fallbackCause(error: unknown): string | null {
  if (!(error instanceof ProxyError)) return null;
  if (error.kind === 'rate_limited') return 'rate limited';
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
 * Watches an attempt's waits: when one has lasted `afterMs` without the request going out, `expire` is called
 * (once). `over` ends a wait; a new one starts the clock again.
 */
export function watchWaits(
  afterMs: number,
  expire: () => void,
): { onWait(wait: UpstreamWait): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };
  return {
    onWait(wait) {
      if (wait.reason === 'over') stop();
      else timer ??= setTimeout(expire, afterMs);
    },
    stop,
  };
}
