import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MessageRef, NodeSnapshot, SessionEngine } from '../sessions/index.js';
import { createAttachmentFlow } from './attachments.js';
import { type Background, type ChatContext, createBackground, refOf, sentence } from './chat-context.js';
import {
  type CommandContext,
  type CommandName,
  commandUsage,
  parseTextCommand,
  runCommand,
} from './commands/index.js';
import { type Clock, createOutbox, type OutboxStats, sumOutboxStats, systemClock } from './outbox/index.js';
import { createPermissionPrompts } from './permission-prompts.js';
import type { Incoming, MessagingPlatform } from './platform.js';
import type { ProxyStatsSnapshot, Transcriber } from './ports.js';
import { renderMarkdown } from './render/index.js';
import { createTaskTracker, type TaskStart } from './task-tracker.js';
import { createVoiceFlow } from './voice-flow.js';

// One per process, shared by every platform: turns incoming chat into engine work and engine progress into
// chat. Each chat has its own outbox and its own ordered queue, so two messages from one chat are submitted in
// the order they were sent while other chats go on independently.

export interface ControllerOptions {
  engine: SessionEngine;
  transcriber: Transcriber;
  voiceEnabled: boolean;
  proxyStats: () => ProxyStatsSnapshot;
  rate: { count: number; windowMs: number };
  logger: Logger;
  clock?: Clock;
  typingIntervalMs?: number;
  /**
   * The sessions' working directory (CLAUDE_WORKSPACE): photos and files are saved under its `attachments/`
   * and become part of the task. Without it they are explained away, as before.
   */
  workspace?: string;
  /** Per file; 20 MB unless given. */
  attachmentMaxBytes?: number;
}

export interface Controller {
  attach(platform: MessagingPlatform): void;
  handle(incoming: Incoming): void;
  announceInterrupted(nodes: readonly NodeSnapshot[]): Promise<void>;
  /** What each chat's outbox did so far (sent, edited, rate limited, retried, failed …), keyed `platform:chatId`. */
  chatStats(): ChatStats[];
  /** Stops listening, cancels transcriptions, and delivers everything already queued. */
  close(): Promise<void>;
}

export interface ChatStats extends OutboxStats {
  chat: string;
}

interface ChatState extends ChatContext {
  queue: Promise<void>;
}

export function createController(options: ControllerOptions): Controller {
  const { engine, logger } = options;
  const platforms = new Map<string, MessagingPlatform>();
  const chats = new Map<string, ChatState>();
  const background: Background = createBackground(logger);

  const chatFor = (platformName: string, chatId: string): ChatState | undefined => {
    const key = `${platformName}:${chatId}`;
    const existing = chats.get(key);
    if (existing) return existing;
    const platform = platforms.get(platformName);
    if (!platform) return undefined;
    const outbox = createOutbox({
      transport: platform,
      clock: options.clock ?? systemClock,
      rate: options.rate,
      logger: logger.child({ chat: key }),
    });
    const chat: ChatState = { key, platform, chatId, outbox, queue: Promise.resolve() };
    chats.set(key, chat);
    return chat;
  };
  const chatOfRef = (ref: MessageRef): ChatState | undefined => chatFor(ref.platform, ref.chatId);

  /** Runs work in the chat's order; a failure is told to the user in one sentence with a reference. */
  const enqueue = (chat: ChatState, replyTo: string, label: string, work: () => Promise<void>): void => {
    chat.queue = chat.queue.then(work).catch(async (error: unknown) => {
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
    });
  };

  const tracker = createTaskTracker({ engine, chatFor: chatOfRef, background, logger, ...typingOption() });
  function typingOption(): { typingIntervalMs?: number } {
    return options.typingIntervalMs === undefined ? {} : { typingIntervalMs: options.typingIntervalMs };
  }

  const prompts = createPermissionPrompts({ engine, chatFor: chatOfRef, background, logger });

  const startTask = (chat: ChatContext, start: TaskStart): Promise<void> => {
    const state = chats.get(chat.key);
    if (!state) return Promise.resolve();
    enqueue(state, start.messageId, 'starting the task', () => tracker.startTask(chat, start));
    return Promise.resolve();
  };

  const voice = createVoiceFlow({
    transcriber: options.transcriber,
    enabled: options.voiceEnabled,
    background,
    logger,
    submit: startTask,
  });

  const attachments =
    options.workspace === undefined
      ? null
      : createAttachmentFlow({
          workspace: options.workspace,
          logger,
          ...(options.attachmentMaxBytes === undefined ? {} : { maxBytes: options.attachmentMaxBytes }),
        });

  /** Answers in Markdown: a slash command in place, anything else as a reply through the outbox. */
  const answer = async (chat: ChatState, incoming: Incoming, markdown: string): Promise<void> => {
    const parts = renderMarkdown(markdown, chat.platform.limits);
    if (incoming.kind === 'command') {
      await incoming.respond(parts.map((part) => part.formatted).join('\n') || markdown);
      return;
    }
    for (const part of parts) {
      await chat.outbox.send(chat.chatId, part, { replyToMessageId: incoming.messageId });
    }
  };

  const chatStatsOf = (): ChatStats[] =>
    [...chats.values()].map((chat) => ({ chat: chat.key, ...chat.outbox.stats() }));

  const deleteBotMessages = (removed: readonly NodeSnapshot[]): void => {
    for (const node of removed) {
      for (const message of node.messages) {
        if (message.role === 'prompt') continue;
        const chat = chatOfRef(message.ref);
        if (!chat) continue;
        background.run('delete cleared message', chat.outbox.delete(chat.chatId, message.ref.messageId));
      }
    }
  };

  /** What a command from the table may do, bound to the chat it came from. */
  const commandContext = (chat: ChatState, incoming: Incoming): CommandContext => ({
    engine,
    ref: (messageId) => refOf(chat, messageId),
    answer: (markdown) => answer(chat, incoming, markdown),
    // Alone, a command acts on every chat's transcriptions, as it does on every task.
    cancelTranscriptions: (replyTo, cancel) => voice.cancel(replyTo === null ? null : chat, replyTo, cancel),
    answerPermission: (replyTo, decision) => prompts.answerByReply(chat, replyTo, decision),
    forgetTasks: (nodeIds) => tracker.forget(nodeIds),
    deleteBotMessages,
    proxyStats: options.proxyStats,
    chatStats: () => sumOutboxStats(chatStatsOf()),
    attachmentMaxBytes: attachments?.maxBytes ?? null,
  });

  const runChatCommand = (chat: ChatState, incoming: Incoming, command: CommandName): Promise<void> =>
    runCommand(command, commandContext(chat, incoming), incoming.replyToMessageId);

  return {
    attach(platform) {
      platforms.set(platform.name, platform);
    },

    handle(incoming) {
      const chat = chatFor(incoming.platform, incoming.chatId);
      if (!chat) {
        logger.error({ platform: incoming.platform }, 'message from a platform that is not attached');
        return;
      }
      switch (incoming.kind) {
        case 'command':
          enqueue(chat, incoming.messageId, `/${incoming.command}`, () =>
            runChatCommand(chat, incoming, incoming.command),
          );
          return;
        case 'text': {
          const parsed = parseTextCommand(incoming.text, chat.platform.botName());
          if (parsed?.kind === 'other_bot') {
            logger.info({ chat: chat.key, mention: parsed.mention }, 'command for another bot: ignored');
            return;
          }
          if (parsed?.kind === 'with_arguments') {
            enqueue(chat, incoming.messageId, `/${parsed.command}`, () =>
              answer(chat, incoming, commandUsage(parsed.command)),
            );
            return;
          }
          if (parsed) {
            const { command } = parsed;
            enqueue(chat, incoming.messageId, `/${command}`, () => runChatCommand(chat, incoming, command));
            return;
          }
          void startTask(chat, {
            prompt: incoming.text,
            messageId: incoming.messageId,
            replyToMessageId: incoming.replyToMessageId,
          });
          return;
        }
        case 'files': {
          if (attachments === null) {
            // Attachments off: the caption alone is the task, as it was before they were supported.
            if (incoming.text.trim() !== '') {
              void startTask(chat, {
                prompt: incoming.text,
                messageId: incoming.messageId,
                replyToMessageId: incoming.replyToMessageId,
                ...(incoming.albumMessageIds?.length ? { alsoPrompts: incoming.albumMessageIds } : {}),
              });
              return;
            }
            const names = incoming.files.map((file) => file.fileName).join(', ');
            enqueue(chat, incoming.messageId, 'the attachment', () =>
              answer(chat, incoming, unsupportedText(`a file (${names})`)),
            );
            return;
          }
          // Downloaded and started inside the chat's queue: a text sent right after the photo runs after it.
          enqueue(chat, incoming.messageId, 'the attachment', async () => {
            const start = await attachments.prepare(chat, incoming);
            if (start) await tracker.startTask(chat, start);
          });
          return;
        }
        case 'audio':
          enqueue(chat, incoming.messageId, 'the voice note', () => voice.begin(chat, incoming));
          return;
        case 'button':
          // Not queued behind the chat's other work: a person is waiting for the tap to take effect.
          background.run(
            'button press',
            (async () => {
              const note = (await prompts.press(incoming.data)) ?? 'This button does nothing any more.';
              await incoming.acknowledge(note);
            })(),
          );
          return;
        case 'unsupported':
          enqueue(chat, incoming.messageId, 'the attachment', () =>
            answer(chat, incoming, unsupportedText(incoming.description)),
          );
          return;
      }
    },

    announceInterrupted: (nodes) => tracker.announceInterrupted(nodes),

    chatStats: chatStatsOf,

    async close() {
      voice.close();
      attachments?.close();
      prompts.close();
      await Promise.all([...chats.values()].map((chat) => chat.queue));
      tracker.close();
      await background.drain();
      await Promise.all(
        [...chats.values()].map(async (chat) => {
          await chat.outbox.flush();
          await chat.outbox.close();
        }),
      );
    },
  };
}

function unsupportedText(description: string): string {
  return `I can work with text messages and voice notes, but this was ${description}. Please describe the task in words.`;
}
