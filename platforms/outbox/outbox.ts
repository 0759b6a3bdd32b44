import type { Clock } from '../../src/common/index.js';
import type { Logger } from '../../src/log.js';
import type { Formatted } from '../render/index.js';
import { ChatApiError } from './errors.js';
import { createKeyQueue, type KeyQueue } from './key-queue.js';
import { createOpRunner } from './op-runner.js';
import { assertRate, createRateWindow, type Rate } from './rate-window.js';
import { emptyOutboxStats, type OutboxStats } from './stats.js';
import type { ChatFile, ChatTransport } from './transport.js';
import { createWaiter } from './waiter.js';

// One ordered queue per chat over a ChatTransport: a strict rolling-window rate per chat, 429s honoured
// (pausing that chat) without using the retry budget, plain-text fallback on formatting rejections, bounded
// backoff for server/network failures, and coalesced edits: a newer edit of a queued message replaces it,
// moves to the back (so it never overtakes anything queued before it), and every waiter gets its result.
// The parts: key-queue (a chat's order), rate-window (its pace), op-runner with retry-policy (one operation).

export interface Outbox {
  send(
    chatId: string,
    content: Formatted,
    options?: { replyToMessageId?: string; file?: ChatFile },
  ): Promise<{ messageId: string }>;
  /** Coalesced: a newer edit for the same message replaces a queued one; all waiters get the final result. */
  edit(chatId: string, messageId: string, content: Formatted): Promise<void>;
  delete(chatId: string, messageId: string): Promise<void>;
  /** Resolves when everything queued so far is delivered (or has definitively failed). */
  flush(): Promise<void>;
  stats(): OutboxStats;
  /** Refuses new work and resolves once everything already queued is settled. */
  close(): Promise<void>;
}

export interface OutboxOptions {
  transport: ChatTransport;
  clock: Clock;
  /** Per chat: at most `count` API calls in any `windowMs`. */
  rate: Rate;
  logger: Logger;
  /**
   * Retries of server/network failures per operation (429s never count). Default 10: with the backoff capped
   * at 30 s that rides out about three minutes of chat API outage before an operation fails for good.
   */
  maxRetries?: number;
}

export function createOutbox(options: OutboxOptions): Outbox {
  const { clock } = options;
  assertRate(options.rate);
  const queues = new Map<string, KeyQueue>();
  const stats = emptyOutboxStats();
  let closed = false;
  const runner = createOpRunner({
    transport: options.transport,
    clock,
    logger: options.logger,
    stats,
    maxRetries: options.maxRetries ?? 10,
    isClosing: () => closed,
  });

  const queueOf = (chatId: string): KeyQueue => {
    let queue = queues.get(chatId);
    if (!queue) {
      queue = createKeyQueue({ chatId, rate: createRateWindow(options.rate, clock), ...runner });
      queues.set(chatId, queue);
    }
    return queue;
  };

  /** After close(), new work is refused through the returned promise (never a synchronous throw). */
  const refused = <T>(): Promise<T> | null => {
    if (!closed) return null;
    const waiter = createWaiter<T>();
    waiter.reject(new ChatApiError('other', 'the outbox is closed'));
    return waiter.promise;
  };

  const pending = (): Promise<unknown>[] =>
    [...queues.values()].flatMap((queue) =>
      queue.unsettled().flatMap((op) => op.waiters.map((waiter) => waiter.promise)),
    );

  return {
    send(chatId, content, sendOptions) {
      const refusal = refused<{ messageId: string }>();
      if (refusal) return refusal;
      const waiter = createWaiter<{ messageId: string }>();
      queueOf(chatId).push({
        kind: 'send',
        content,
        waiters: [waiter],
        ...(sendOptions?.replyToMessageId === undefined
          ? {}
          : { replyToMessageId: sendOptions.replyToMessageId }),
        ...(sendOptions?.file === undefined ? {} : { file: sendOptions.file }),
      });
      return waiter.promise;
    },
    edit(chatId, messageId, content) {
      const refusal = refused<void>();
      if (refusal) return refusal;
      const queue = queueOf(chatId);
      const waiter = createWaiter<void>();
      const queued = queue.takeQueuedEdit(messageId);
      if (queued) stats.coalesced++;
      queue.push({ kind: 'edit', messageId, content, waiters: [...(queued?.waiters ?? []), waiter] });
      return waiter.promise;
    },
    delete(chatId, messageId) {
      const refusal = refused<void>();
      if (refusal) return refusal;
      const waiter = createWaiter<void>();
      queueOf(chatId).push({ kind: 'delete', messageId, waiters: [waiter] });
      return waiter.promise;
    },
    async flush() {
      await Promise.allSettled(pending());
    },
    stats: () => ({ ...stats }),
    async close() {
      closed = true;
      await Promise.allSettled(pending());
    },
  };
}
