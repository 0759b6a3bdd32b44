import type { IncomingMessage } from 'node:http';
import type { RateLimiter } from './rate-limiter.js';
import { type UpstreamWait, WAIT_OVER } from './upstream.js';

// Why a relay session's request is held before the provider sees it, told back to that session so its chat
// can say "provider rate limited, waiting 12 s" instead of going quiet. The relay starts each CLI with
// ANTHROPIC_CUSTOM_HEADERS naming its node; requests without the header (a user's own `claude`) report nothing.

export const RELAY_NODE_HEADER = 'x-claude-relay-node';

/** A wait worth a line in chat; `nodeId` is the session that sent the request. */
export interface ProviderWait extends UpstreamWait {
  nodeId: string;
  provider: string;
  /** The provider as people know it ("NVIDIA NIM"), from the provider table. */
  label: string;
}

/** Shorter waits pass before a chat edit could show them. */
export const MIN_REPORTED_WAIT_MS = 1000;

const NODE_ID = /^[A-Za-z0-9-]{1,64}$/;

export function relayNodeOf(req: IncomingMessage): string | undefined {
  const value = req.headers[RELAY_NODE_HEADER];
  return typeof value === 'string' && NODE_ID.test(value) ? value : undefined;
}

export type WaitReporter = (wait: UpstreamWait) => void;

export function waitReporter(
  report: ((wait: ProviderWait) => void) | undefined,
  nodeId: string | undefined,
  provider: { id: string; label: string },
): WaitReporter | undefined {
  if (report === undefined || nodeId === undefined) return undefined;
  // `over` is told only after a wait that was: most requests never wait, and their sessions hear nothing.
  let told = false;
  return (wait) => {
    if (wait.reason === 'over' ? !told : wait.delayMs !== null && wait.delayMs < MIN_REPORTED_WAIT_MS) return;
    told = wait.reason !== 'over';
    report({ ...wait, nodeId, provider: provider.id, label: provider.label });
  };
}

/** A concurrency slot, reported as `busy` once the wait has lasted MIN_REPORTED_WAIT_MS. */
export async function enterReporting(
  limiter: RateLimiter,
  signal: AbortSignal,
  reporter: WaitReporter | undefined,
): Promise<() => void> {
  if (reporter === undefined) return limiter.enter(signal);
  const notice = setTimeout(
    () => reporter({ reason: 'busy', delayMs: null, attempt: null, maxRetries: null }),
    MIN_REPORTED_WAIT_MS,
  );
  try {
    const release = await limiter.enter(signal);
    reporter(WAIT_OVER);
    return release;
  } finally {
    clearTimeout(notice);
  }
}
