import type { Clock } from '../../src/common/index.js';
import type { Logger } from '../../src/log.js';
import type { KeyQueue } from './key-queue.js';
import { callTransport, type Op } from './ops.js';
import { type Attempt, nextStep, retryLimit } from './retry-policy.js';
import type { OutboxStats } from './stats.js';
import type { ChatTransport } from './transport.js';

// Carries one operation to success or definitive failure: calls the transport, follows the retry policy
// (pausing the chat on 429s, falling back to plain text, backing off), counts it all and tells the waiters.

export interface OpRunnerOptions {
  transport: ChatTransport;
  clock: Clock;
  logger: Logger;
  /** Counted into; the outbox hands out copies. */
  stats: OutboxStats;
  maxRetries: number;
  /** Once the outbox is closing, fewer retries. */
  isClosing(): boolean;
}

export interface OpRunner {
  /** The op's first call's slot is already taken. */
  run(queue: KeyQueue, op: Op): Promise<void>;
  fail(queue: KeyQueue, op: Op, error: unknown): void;
}

export function createOpRunner(options: OpRunnerOptions): OpRunner {
  const { transport, clock, logger, stats } = options;

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

  const fail = (queue: KeyQueue, op: Op, error: unknown): void => {
    // The final state wins: a newer queued edit of the same message takes over these waiters.
    const newer = op.kind === 'edit' ? queue.queuedEdit(op.messageId) : undefined;
    if (op.kind === 'edit' && newer) {
      newer.waiters.push(...op.waiters);
      logger.warn(
        { chatId: queue.chatId, messageId: op.messageId, err: error },
        'edit failed; a newer edit follows',
      );
      return;
    }
    stats.failed++;
    logger.error(
      {
        chatId: queue.chatId,
        op: op.kind,
        messageId: op.kind === 'send' ? undefined : op.messageId,
        err: error,
      },
      'chat operation failed for good',
    );
    for (const waiter of op.waiters) waiter.reject(error);
  };

  const run = async (queue: KeyQueue, op: Op): Promise<void> => {
    const { chatId } = queue;
    const attempt: Attempt = { formatted: true, retries: 0, rateLimits: 0 };
    for (let first = true; ; first = false) {
      if (!first) await queue.rate.waitForSlot();
      let error: unknown;
      try {
        const result = await callTransport(transport, chatId, op, attempt.formatted);
        queue.rate.finished();
        succeed(op, result);
        return;
      } catch (caught) {
        queue.rate.finished();
        error = caught;
      }
      const step = nextStep(error, op.kind, attempt, retryLimit(options.maxRetries, options.isClosing()));
      switch (step.kind) {
        case 'pause':
          stats.rateLimited++;
          attempt.rateLimits++;
          queue.rate.pause(step.waitMs);
          logger.warn(
            { chatId, op: op.kind, waitMs: step.waitMs },
            'chat API rate limited; pausing this chat',
          );
          continue;
        case 'plain':
          stats.fellBackToPlain++;
          attempt.formatted = false;
          logger.warn({ chatId, op: op.kind, err: error }, 'formatting rejected; sending plain text');
          continue;
        case 'done':
          succeed(op, undefined);
          return;
        case 'retry':
          attempt.retries++;
          stats.retried++;
          logger.warn(
            { chatId, op: op.kind, retry: attempt.retries, waitMs: step.waitMs, err: error },
            'chat API failed; retrying',
          );
          await clock.sleep(step.waitMs);
          continue;
        case 'fail':
          fail(queue, op, error);
          return;
      }
    }
  };

  return { run, fail };
}
