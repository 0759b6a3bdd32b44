import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type ChatContext, sentence } from './chat-context.js';

// One chat's work in the order it arrived: two messages from one chat are handled in the order they were sent,
// while other chats go on independently. A failure is told to the user in one sentence with a reference.

export interface ChatQueue {
  /** Runs `work` after the chat's earlier work; `label` names it in the log and to the user if it fails. */
  add(replyTo: string, label: string, work: () => Promise<void>): void;
  /** Settles once everything queued so far has run (it never rejects). */
  idle(): Promise<void>;
}

export function createChatQueue(chat: ChatContext, logger: Logger): ChatQueue {
  let tail: Promise<void> = Promise.resolve();

  const report = async (replyTo: string, label: string, error: unknown): Promise<void> => {
    const reference = randomUUID().slice(0, 8);
    logger.error({ err: error, chat: chat.key, reference, work: label }, 'chat request failed');
    try {
      await chat.outbox.send(
        chat.chatId,
        sentence(
          chat,
          `⚠️ Something went wrong (${label}); nothing was lost on my side. Reference: ${reference}`,
        ),
        { replyToMessageId: replyTo },
      );
    } catch (sendError) {
      logger.error({ err: sendError, chat: chat.key }, 'could not tell the user about a failure');
    }
  };

  return {
    add(replyTo, label, work) {
      tail = tail.then(work).catch((error: unknown) => report(replyTo, label, error));
    },
    idle: () => tail,
  };
}
