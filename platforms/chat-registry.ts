import type { Logger } from 'pino';
import type { MessageRef } from '../sessions/index.js';
import type { Clock } from '../src/common/index.js';
import type { ChatContext } from './chat-context.js';
import { type ChatQueue, createChatQueue } from './chat-queue.js';
import { createOutbox, type OutboxStats } from './outbox/index.js';
import type { MessagingPlatform } from './platform.js';

// The attached platforms and every chat seen so far. A chat is made on first use, with its own outbox (one
// chat's rate limit never delays another) and its own ordered queue of work.

export interface Chat extends ChatContext {
  readonly queue: ChatQueue;
}

export interface ChatStats extends OutboxStats {
  chat: string;
}

export interface ChatRegistryOptions {
  clock: Clock;
  /** Per chat, for its outbox. */
  rate: { count: number; windowMs: number };
  logger: Logger;
}

export interface ChatRegistry {
  attach(platform: MessagingPlatform): void;
  /** The chat, made on first use; undefined when its platform is not attached. */
  chatFor(platformName: string, chatId: string): Chat | undefined;
  chatOfRef(ref: MessageRef): Chat | undefined;
  /** A chat made earlier, by its key (`platform:chatId`). */
  known(key: string): Chat | undefined;
  all(): Chat[];
  /** What each chat's outbox did so far. */
  stats(): ChatStats[];
}

export function createChatRegistry(options: ChatRegistryOptions): ChatRegistry {
  const platforms = new Map<string, MessagingPlatform>();
  const chats = new Map<string, Chat>();

  const chatFor = (platformName: string, chatId: string): Chat | undefined => {
    const key = `${platformName}:${chatId}`;
    const existing = chats.get(key);
    if (existing) return existing;
    const platform = platforms.get(platformName);
    if (!platform) return undefined;
    const logger = options.logger.child({ chat: key });
    const rate = platform.rate ?? options.rate;
    const outbox = createOutbox({ transport: platform, clock: options.clock, rate, logger });
    const context: ChatContext = { key, platform, chatId, outbox };
    const chat: Chat = { ...context, queue: createChatQueue(context, options.logger) };
    chats.set(key, chat);
    return chat;
  };

  return {
    attach(platform) {
      platforms.set(platform.name, platform);
    },
    chatFor,
    chatOfRef: (ref) => chatFor(ref.platform, ref.chatId),
    known: (key) => chats.get(key),
    all: () => [...chats.values()],
    stats: () => [...chats.values()].map((chat) => ({ chat: chat.key, ...chat.outbox.stats() })),
  };
}
