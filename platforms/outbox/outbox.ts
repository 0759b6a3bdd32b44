import type { Clock } from '../../src/common/index.js';
import type { Logger } from '../../src/log.js';
import type { ChatButton, Formatted } from '../render/index.js';
import { ChatApiError } from './errors.js';

// One ordered queue per chat over a ChatTransport: a strict rolling-window rate per chat, 429s honoured
// (pausing that chat) without using the retry budget, plain-text fallback on formatting rejections, bounded
// backoff for server/network failures, and coalesced edits: a newer edit of a queued message replaces it,
// moves to the back (so it never overtakes anything queued before it), and every waiter gets its result.

export interface ChatTransport {
  send(
    chatId: string,
    text: string,
    options: { formatted: boolean; replyToMessageId?: string; buttons?: ChatButton[] },
  ): Promise<{ messageId: string }>;
  /** `buttons: []` removes a message's buttons; without `buttons` the platform's default applies. */
  edit(
    chatId: string,
    messageId: string,
    text: string,
    options: { formatted: boolean; buttons?: ChatButton[] },
  ): Promise<void>;
  delete(chatId: string, messageId: string): Promise<void>;
}

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

export interface Outbox {
  send(
    chatId: string,
    content: Formatted,
    options?: { replyToMessageId?: string },
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
  rate: { count: number; windowMs: number };
  logger: Logger;
  /**
   * Retries of server/network failures per operation (429s never count). Default 10: with the backoff capped
   * at 30 s that rides out about three minutes of chat API outage before an operation fails for good.
   */
  maxRetries?: number;
}

interface Waiter<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

type Op =
  | { kind: 'send'; content: Formatted; replyToMessageId?: string; waiters: Waiter<{ messageId: string }>[] }
  | { kind: 'edit'; messageId: string; content: Formatted; waiters: Waiter<void>[] }
  | { kind: 'delete'; messageId: string; waiters: Waiter<void>[] };

interface ChatQueue {
  chatId: string;
  ops: Op[];
  inFlight: Op | null;
  /** Start times of the last `rate.count` API calls. */
  starts: number[];
  pausedUntil: number;
  draining: boolean;
}

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const RATE_LIMIT_FALLBACK_MAX_MS = 60_000;
const CLOSING_RETRIES = 2;

function createWaiter<T>(): Waiter<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Failures are logged and counted in stats(); a caller that fires and forgets must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function backoff(attempt: number, cap: number): number {
  return Math.min(cap, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
}

export function createOutbox(options: OutboxOptions): Outbox {
  const { transport, clock, logger } = options;
  const { count, windowMs } = options.rate;
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`rate.count must be a positive integer, got ${count}`);
  if (!(windowMs > 0)) throw new RangeError(`rate.windowMs must be positive, got ${windowMs}`);
  const maxRetries = options.maxRetries ?? 10;
  const chats = new Map<string, ChatQueue>();
  const stats = emptyOutboxStats();
  let closed = false;

  const chatOf = (chatId: string): ChatQueue => {
    let chat = chats.get(chatId);
    if (!chat) {
      chat = { chatId, ops: [], inFlight: null, starts: [], pausedUntil: 0, draining: false };
      chats.set(chatId, chat);
    }
    return chat;
  };

  /** After close(), new work is refused through the returned promise (never a synchronous throw). */
  const refused = <T>(): Promise<T> | null => {
    if (!closed) return null;
    const waiter = createWaiter<T>();
    waiter.reject(new ChatApiError('other', 'the outbox is closed'));
    return waiter.promise;
  };

  const enqueue = (chat: ChatQueue, op: Op): void => {
    chat.ops.push(op);
    if (!chat.draining) {
      chat.draining = true;
      void drain(chat);
    }
  };

  /** Waits until the chat may make another call: not paused, and under the rate in the rolling window. */
  const waitForSlot = async (chat: ChatQueue): Promise<void> => {
    for (;;) {
      const now = clock.now();
      const windowFree =
        chat.starts.length < count ? now : (chat.starts[chat.starts.length - count] ?? 0) + windowMs;
      const at = Math.max(now, windowFree, chat.pausedUntil);
      if (at <= now) break;
      await clock.sleep(at - now);
    }
    chat.starts.push(clock.now());
    if (chat.starts.length > count) chat.starts.splice(0, chat.starts.length - count);
  };

  const call = (chatId: string, op: Op, formatted: boolean): Promise<{ messageId: string } | undefined> => {
    switch (op.kind) {
      case 'send':
        return transport.send(chatId, formatted ? op.content.formatted : op.content.plain, {
          formatted,
          ...(op.replyToMessageId === undefined ? {} : { replyToMessageId: op.replyToMessageId }),
          ...(op.content.buttons === undefined ? {} : { buttons: op.content.buttons }),
        });
      case 'edit':
        return transport
          .edit(chatId, op.messageId, formatted ? op.content.formatted : op.content.plain, {
            formatted,
            ...(op.content.buttons === undefined ? {} : { buttons: op.content.buttons }),
          })
          .then(() => undefined);
      case 'delete':
        return transport.delete(chatId, op.messageId).then(() => undefined);
    }
  };

  const succeed = (op: Op, result: { messageId: string } | undefined): void => {
    if (op.kind === 'send') {
      stats.sent++;
      const messageId = result?.messageId ?? '';
      for (const waiter of op.waiters) waiter.resolve({ messageId });
      return;
    }
    if (op.kind === 'edit') stats.edited++;
    else stats.deleted++;
    for (const waiter of op.waiters) waiter.resolve();
  };

  const fail = (chat: ChatQueue, op: Op, error: unknown): void => {
    // The final state wins: a newer queued edit of the same message takes over these waiters.
    if (op.kind === 'edit') {
      const newer = chat.ops.find((other) => other.kind === 'edit' && other.messageId === op.messageId);
      if (newer?.kind === 'edit') {
        newer.waiters.push(...op.waiters);
        logger.warn(
          { chatId: chat.chatId, messageId: op.messageId, err: error },
          'edit failed; a newer edit follows',
        );
        return;
      }
    }
    stats.failed++;
    logger.error(
      {
        chatId: chat.chatId,
        op: op.kind,
        messageId: op.kind === 'send' ? undefined : op.messageId,
        err: error,
      },
      'chat operation failed for good',
    );
    for (const waiter of op.waiters) waiter.reject(error);
  };

  /** Runs one operation to success or definitive failure; the first call's slot is already taken. */
  const run = async (chat: ChatQueue, op: Op): Promise<void> => {
    let formatted = true;
    let retries = 0;
    let rateLimits = 0;
    for (let first = true; ; first = false) {
      if (!first) await waitForSlot(chat);
      let error: unknown;
      try {
        succeed(op, await call(chat.chatId, op, formatted));
        return;
      } catch (caught) {
        error = caught;
      }
      const kind = error instanceof ChatApiError ? error.kind : 'other';
      if (kind === 'rate_limited') {
        stats.rateLimited++;
        rateLimits++;
        const retryAfter = error instanceof ChatApiError ? error.retryAfterMs : undefined;
        const wait = retryAfter ?? backoff(rateLimits, RATE_LIMIT_FALLBACK_MAX_MS);
        chat.pausedUntil = Math.max(chat.pausedUntil, clock.now() + wait);
        logger.warn(
          { chatId: chat.chatId, op: op.kind, waitMs: wait },
          'chat API rate limited; pausing this chat',
        );
        continue;
      }
      if (kind === 'bad_format' && formatted && op.kind !== 'delete') {
        stats.fellBackToPlain++;
        formatted = false;
        logger.warn(
          { chatId: chat.chatId, op: op.kind, err: error },
          'formatting rejected; sending plain text',
        );
        continue;
      }
      if (kind === 'not_modified' && op.kind !== 'send') {
        succeed(op, undefined);
        return;
      }
      if (kind === 'not_found' && op.kind === 'delete') {
        // Already gone: what the caller wanted.
        succeed(op, undefined);
        return;
      }
      // Once closing, a chat API that is down is not waited on for minutes: shutdown stays prompt.
      const retryLimit = closed ? Math.min(maxRetries, CLOSING_RETRIES) : maxRetries;
      if ((kind === 'server' || kind === 'network') && retries < retryLimit) {
        retries++;
        stats.retried++;
        const wait = backoff(retries, BACKOFF_MAX_MS);
        logger.warn(
          { chatId: chat.chatId, op: op.kind, retry: retries, waitMs: wait, err: error },
          'chat API failed; retrying',
        );
        await clock.sleep(wait);
        continue;
      }
      fail(chat, op, error);
      return;
    }
  };

  const drain = async (chat: ChatQueue): Promise<void> => {
    try {
      while (chat.ops.length > 0) {
        // Wait before taking the op, so edits arriving meanwhile still coalesce into it.
        await waitForSlot(chat);
        const op = chat.ops.shift();
        if (!op) break;
        chat.inFlight = op;
        await run(chat, op);
        chat.inFlight = null;
      }
    } catch (error) {
      // Only a broken Clock gets here: fail what is left rather than hang every waiter.
      for (const op of [...(chat.inFlight ? [chat.inFlight] : []), ...chat.ops.splice(0)])
        fail(chat, op, error);
      chat.inFlight = null;
    } finally {
      chat.draining = false;
    }
  };

  const pending = (): Promise<unknown>[] => {
    const promises: Promise<unknown>[] = [];
    for (const chat of chats.values()) {
      for (const op of chat.inFlight ? [chat.inFlight, ...chat.ops] : chat.ops) {
        for (const waiter of op.waiters) promises.push(waiter.promise);
      }
    }
    return promises;
  };

  return {
    send(chatId, content, sendOptions) {
      const refusal = refused<{ messageId: string }>();
      if (refusal) return refusal;
      const waiter = createWaiter<{ messageId: string }>();
      const op: Op = { kind: 'send', content, waiters: [waiter] };
      if (sendOptions?.replyToMessageId !== undefined) op.replyToMessageId = sendOptions.replyToMessageId;
      enqueue(chatOf(chatId), op);
      return waiter.promise;
    },
    edit(chatId, messageId, content) {
      const refusal = refused<void>();
      if (refusal) return refusal;
      const chat = chatOf(chatId);
      const waiter = createWaiter<void>();
      const index = chat.ops.findIndex((op) => op.kind === 'edit' && op.messageId === messageId);
      const queued = chat.ops[index];
      if (queued?.kind === 'edit') {
        stats.coalesced++;
        chat.ops.splice(index, 1);
        enqueue(chat, { kind: 'edit', messageId, content, waiters: [...queued.waiters, waiter] });
      } else {
        enqueue(chat, { kind: 'edit', messageId, content, waiters: [waiter] });
      }
      return waiter.promise;
    },
    delete(chatId, messageId) {
      const refusal = refused<void>();
      if (refusal) return refusal;
      const waiter = createWaiter<void>();
      enqueue(chatOf(chatId), { kind: 'delete', messageId, waiters: [waiter] });
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
