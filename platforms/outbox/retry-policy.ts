import { ChatApiError } from './errors.js';
import type { Op } from './ops.js';

// What to do after a failed API call, decided from the error's kind alone (never its text). Pure.

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const RATE_LIMIT_FALLBACK_MAX_MS = 60_000;
/** Once closing, a chat API that is down is not waited on for minutes: shutdown stays prompt. */
const CLOSING_RETRIES = 2;

/** What one operation went through so far. */
export interface Attempt {
  formatted: boolean;
  /** Server and network failures retried. */
  retries: number;
  rateLimits: number;
}

export type NextStep =
  /** A 429: pause the chat for `waitMs` and call again; this never uses up the retry budget. */
  | { kind: 'pause'; waitMs: number }
  /** The platform rejected the formatting: send the plain text instead. */
  | { kind: 'plain' }
  /** What the caller wanted already holds (the text was unchanged, the message already gone). */
  | { kind: 'done' }
  /** A server or network failure within the budget: wait `waitMs`, then call again. */
  | { kind: 'retry'; waitMs: number }
  | { kind: 'fail' };

export function backoff(attempt: number, cap: number): number {
  return Math.min(cap, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
}

/** Server/network retries allowed per operation. */
export function retryLimit(maxRetries: number, closing: boolean): number {
  return closing ? Math.min(maxRetries, CLOSING_RETRIES) : maxRetries;
}

export function nextStep(error: unknown, op: Op['kind'], attempt: Attempt, limit: number): NextStep {
  const kind = error instanceof ChatApiError ? error.kind : 'other';
  if (kind === 'rate_limited') {
    const retryAfter = error instanceof ChatApiError ? error.retryAfterMs : undefined;
    return {
      kind: 'pause',
      waitMs: retryAfter ?? backoff(attempt.rateLimits + 1, RATE_LIMIT_FALLBACK_MAX_MS),
    };
  }
  if (kind === 'bad_format' && attempt.formatted && op !== 'delete') return { kind: 'plain' };
  if (kind === 'not_modified' && op !== 'send') return { kind: 'done' };
  if (kind === 'not_found' && op === 'delete') return { kind: 'done' };
  if ((kind === 'server' || kind === 'network') && attempt.retries < limit) {
    return { kind: 'retry', waitMs: backoff(attempt.retries + 1, BACKOFF_MAX_MS) };
  }
  return { kind: 'fail' };
}
