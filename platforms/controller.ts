import type { Logger } from 'pino';
import type { NodeSnapshot, SessionEngine } from '../sessions/index.js';
import type { GatewayStatsSnapshot, ProxyStatsSnapshot, Transcriber } from '../src/common/index.js';
import { createAttachmentFlow } from './attachments.js';
import { createChatCommands } from './chat-commands.js';
import { type ChatContext, createBackground } from './chat-context.js';
import { createChatModes } from './chat-modes.js';
import { type ChatStats, createChatRegistry } from './chat-registry.js';
import { createIncomingRouter } from './incoming-router.js';
import { type Clock, systemClock } from './outbox/index.js';
import { createPermissionPrompts } from './permission-prompts.js';
import type { Incoming, MessagingPlatform } from './platform.js';
import { createProjectBook } from './project-choice.js';
import { createQuestionPrompts } from './question-prompts.js';
import { createStepsShelf } from './task-steps.js';
import { createTaskTracker, type TaskStart } from './task-tracker.js';
import { createVoiceFlow } from './voice-flow.js';

// One per process, shared by every platform: turns incoming chat into engine work and engine progress into
// chat. This file only wires the parts together: the chats (chat-registry), where a message goes
// (incoming-router), the commands (chat-commands over commands/), tasks (task-tracker), voice notes,
// attachments and permission prompts.

export type { ChatStats } from './chat-registry.js';

export interface ControllerOptions {
  engine: SessionEngine;
  transcriber: Transcriber;
  voiceEnabled: boolean;
  proxyStats: () => ProxyStatsSnapshot;
  /** The API gateway's requests for /stats; absent or null when it is off. */
  gatewayStats?: () => GatewayStatsSnapshot | null;
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
  /** The projects a chat may switch to with `/project` (config.sessions.projects); the first is the default. */
  projects?: ReadonlyArray<{ name: string; path: string }>;
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

export function createController(options: ControllerOptions): Controller {
  const { engine, logger } = options;
  const background = createBackground(logger);
  const chats = createChatRegistry({ clock: options.clock ?? systemClock, rate: options.rate, logger });
  const projects = createProjectBook(options.projects ?? [], engine, logger);
  const steps = createStepsShelf({ engine, logger });
  const modes = createChatModes(engine, logger);
  const tracker = createTaskTracker({
    engine,
    workspaceOf: projects.workspaceOf,
    chatFor: chats.chatOfRef,
    background,
    logger,
    steps,
    modes,
    ...(options.typingIntervalMs === undefined ? {} : { typingIntervalMs: options.typingIntervalMs }),
  });
  const prompts = createPermissionPrompts({ engine, chatFor: chats.chatOfRef, background, logger });
  const questions = createQuestionPrompts({ engine, chatFor: chats.chatOfRef, background, logger });

  const startTask = (chat: ChatContext, start: TaskStart): Promise<void> => {
    chats
      .known(chat.key)
      ?.queue.add(start.messageId, 'starting the task', () => tracker.startTask(chat, start));
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
          // A reply may run in a fork's own worktree, a chat in a project elsewhere: paths are named absolute.
          worksElsewhere: (chatKey, isReply) =>
            isReply ||
            (projects.workspaceOf(chatKey) ?? options.projects?.[0]?.path ?? options.workspace) !==
              options.workspace,
          ...(options.attachmentMaxBytes === undefined ? {} : { maxBytes: options.attachmentMaxBytes }),
        });
  const commands = createChatCommands({
    engine,
    chats,
    voice,
    prompts,
    tracker,
    background,
    proxyStats: options.proxyStats,
    gatewayStats: options.gatewayStats ?? (() => null),
    attachmentMaxBytes: attachments?.maxBytes ?? null,
    projects,
    modes,
  });
  const handle = createIncomingRouter({
    chats,
    commands,
    tracker,
    voice,
    prompts,
    questions,
    steps,
    attachments,
    background,
    logger,
    startTask,
  });

  return {
    attach: (platform) => chats.attach(platform),
    handle,
    announceInterrupted: (nodes) => tracker.announceInterrupted(nodes),
    chatStats: () => chats.stats(),
    async close() {
      voice.close();
      attachments?.close();
      prompts.close();
      questions.close();
      await Promise.all(chats.all().map((chat) => chat.queue.idle()));
      tracker.close();
      await background.drain();
      await Promise.all(
        chats.all().map(async (chat) => {
          await chat.outbox.flush();
          await chat.outbox.close();
        }),
      );
    },
  };
}
