// What an outbox did so far, counted as it goes.

export interface OutboxStats {
  sent: number;
  edited: number;
  coalesced: number;
  deleted: number;
  rateLimited: number;
  /** Server and network failures retried after a backoff (429s are counted in `rateLimited` only). */
  retried: number;
  fellBackToPlain: number;
  failed: number;
}

export function emptyOutboxStats(): OutboxStats {
  return {
    sent: 0,
    edited: 0,
    coalesced: 0,
    deleted: 0,
    rateLimited: 0,
    retried: 0,
    fellBackToPlain: 0,
    failed: 0,
  };
}

/** The sum of several outboxes' counters. */
export function sumOutboxStats(list: readonly OutboxStats[]): OutboxStats {
  const total = emptyOutboxStats();
  for (const stats of list) {
    for (const key of Object.keys(total) as Array<keyof OutboxStats>) total[key] += stats[key];
  }
  return total;
}
