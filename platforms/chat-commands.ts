import type { NodeSnapshot, SessionEngine } from '../sessions/index.js';
import type { GatewayStatsSnapshot, ProxyStatsSnapshot } from '../src/common/index.js';
import { answerIncoming } from './chat-answer.js';
import { type Background, refOf, sentence } from './chat-context.js';
import type { ChatModes } from './chat-modes.js';
import type { Chat, ChatRegistry } from './chat-registry.js';
import { type CommandContext, type CommandName, runCommand } from './commands/index.js';
import { sumOutboxStats } from './outbox/index.js';
import type { PermissionPrompts } from './permission-prompts.js';
import type { Incoming } from './platform.js';
import type { ProjectBook } from './project-choice.js';
import type { TaskTracker } from './task-tracker.js';
import type { VoiceFlow } from './voice-flow.js';

// The controller's side of the command table: what a command may do, bound to the chat it came from.

export interface ChatCommandsOptions {
  engine: SessionEngine;
  chats: ChatRegistry;
  voice: VoiceFlow;
  prompts: PermissionPrompts;
  tracker: TaskTracker;
  background: Background;
  proxyStats: () => ProxyStatsSnapshot;
  gatewayStats: () => GatewayStatsSnapshot | null;
  /** Per file when photos and files are taken, null when they are not. */
  attachmentMaxBytes: number | null;
  projects: ProjectBook;
  modes: ChatModes;
}

export interface ChatCommands {
  /** `words`: what followed a command that takes words (`/project web`). */
  run(chat: Chat, incoming: Incoming, name: CommandName, words?: string): Promise<void>;
}

export function createChatCommands(options: ChatCommandsOptions): ChatCommands {
  const { engine, chats, voice, prompts, tracker, background } = options;

  const deleteBotMessages = (removed: readonly NodeSnapshot[]): void => {
    for (const node of removed) {
      for (const message of node.messages) {
        if (message.role === 'prompt') continue;
        const chat = chats.chatOfRef(message.ref);
        if (!chat) continue;
        background.run('delete cleared message', chat.outbox.delete(chat.chatId, message.ref.messageId));
      }
    }
  };

  const contextFor = (chat: Chat, incoming: Incoming, words: string): CommandContext => ({
    engine,
    words,
    projects: options.projects.forChat(chat.key),
    ref: (messageId) => refOf(chat, messageId),
    answer: (markdown) => answerIncoming(chat, incoming, markdown),
    answerFile: async (caption, file) => {
      await chat.outbox.send(chat.chatId, sentence(chat, caption), {
        replyToMessageId: incoming.messageId,
        file,
      });
    },
    // Alone, a command acts on every chat's transcriptions, as it does on every task.
    cancelTranscriptions: (replyTo, cancel) => voice.cancel(replyTo === null ? null : chat, replyTo, cancel),
    answerPermission: (replyTo, decision) => prompts.answerByReply(chat, replyTo, decision),
    forgetTasks: (nodeIds) => tracker.forget(nodeIds),
    deleteBotMessages,
    proxyStats: options.proxyStats,
    gatewayStats: options.gatewayStats,
    chatStats: () => sumOutboxStats(chats.stats()),
    attachmentMaxBytes: options.attachmentMaxBytes,
    chatMode: () => options.modes.get(chat.key),
    setChatMode: (mode) => options.modes.set(chat.key, mode),
    setConversationMode: (replyTo, mode) => engine.setPermissionMode(refOf(chat, replyTo), mode),
  });

  return {
    run: (chat, incoming, name, words = '') =>
      runCommand(name, contextFor(chat, incoming, words), incoming.replyToMessageId),
  };
}
