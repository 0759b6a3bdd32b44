import type { ApiRetry } from '../../sessions/types.js';

// The words for the CLI retrying a failed API request: in the live status and among a finished task's steps.

export function retryNotice(retry: ApiRetry): string {
  const what =
    retry.status === 429
      ? 'provider rate limited'
      : retry.status === null
        ? 'provider unreachable'
        : retry.status === 529
          ? 'provider overloaded'
          : `provider error ${retry.status}`;
  return `${what}, retrying in ${Math.max(1, Math.ceil(retry.delayMs / 1000))} s (attempt ${retry.attempt}/${retry.maxRetries})`;
}
