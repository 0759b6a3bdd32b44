import type { Logger } from 'pino';
import type { MessageRef } from '../sessions/index.js';
import type { Outbox } from './outbox/index.js';
import type { MessagingPlatform } from './platform.js';
import type { Formatted } from './render/index.js';

// What the controller's parts share about one chat: its platform and its outbox (one per chat, so one chat's
// rate limit never delays another).

export interface ChatContext {
  readonly key: string;
  readonly platform: MessagingPlatform;
  readonly chatId: string;
  readonly outbox: Outbox;
}

export function refOf(chat: ChatContext, messageId: string): MessageRef {
  return { platform: chat.platform.name, chatId: chat.chatId, messageId };
}

/** A plain sentence, escaped for the chat's dialect. */
export function sentence(chat: ChatContext, text: string): Formatted {
  return { formatted: chat.platform.limits.dialect.escape(text), plain: text };
}

/**
 * Work nobody awaits directly (edits from engine events, deletions after /clear): each promise is owned here,
 * failures are logged and counted, and `drain` lets shutdown wait for them.
 */
export interface Background {
  run(label: string, work: Promise<unknown>): void;
  failures(): number;
  drain(): Promise<void>;
}

export function createBackground(logger: Logger): Background {
  const pending = new Set<Promise<unknown>>();
  let failed = 0;
  return {
    run(label, work) {
      const owned = work.then(
        () => undefined,
        (error: unknown) => {
          failed += 1;
          logger.warn({ err: error, work: label }, 'chat work failed');
        },
      );
      pending.add(owned);
      void owned.finally(() => pending.delete(owned));
    },
    failures: () => failed,
    async drain() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
