import type { Logger } from 'pino';
import type { MessageRef, NodeSnapshot, ProgressEvent, SessionEngine } from '../sessions/index.js';
import { type Background, type ChatContext, refOf, sentence } from './chat-context.js';
import type { ChatModes } from './chat-modes.js';
import { reduceTaskView, renderStatus } from './render/index.js';
import { createTaskLedger } from './task-ledger.js';
import { createTaskMessages } from './task-messages.js';
import type { StepsShelf } from './task-steps.js';
import { createTypingIndicator } from './task-typing.js';
import { newTrackedTask, type TrackedTask } from './tracked-task.js';

// Turns engine events into chat: one status message per task, edited as the task progresses (the outbox
// coalesces the edits), then the whole final answer. Also keeps "typing…" up while a chat has a running task.
// What is known about each node lives in the ledger; the messages are sent by task-messages.

export interface TaskStart {
  prompt: string;
  messageId: string;
  replyToMessageId: string | null;
  /** Bot messages that belong to the task from the start (a voice note's transcript). */
  alsoLink?: string[];
  /** The user's further messages that carry this task (the other parts of a Telegram album). */
  alsoPrompts?: string[];
}

export interface TaskTracker {
  startTask(chat: ChatContext, start: TaskStart): Promise<void>;
  /** Stops following nodes that were cleared, so nothing edits messages being deleted. */
  forget(nodeIds: readonly string[]): void;
  announceInterrupted(nodes: readonly NodeSnapshot[]): Promise<void>;
  close(): void;
}

export interface TaskTrackerOptions {
  engine: SessionEngine;
  chatFor(ref: MessageRef): ChatContext | undefined;
  background: Background;
  logger: Logger;
  steps: StepsShelf;
  modes: ChatModes;
  typingIntervalMs?: number;
  /** Where a new conversation of this chat works (its `/project`); undefined: the engine's default. */
  workspaceOf?(chatKey: string): string | undefined;
}

export function createTaskTracker(options: TaskTrackerOptions): TaskTracker {
  const { engine, background, logger } = options;
  const ledger = createTaskLedger<TrackedTask>();
  const typing = createTypingIndicator(background, options.typingIntervalMs ?? 4000);
  const messages = createTaskMessages({
    engine,
    chatFor: options.chatFor,
    logger,
    steps: options.steps,
  });

  const updateTyping = (chat: ChatContext): void => typing.update(chat, ledger.hasRunning(chat));
  /** Chats already told that their project's branches share one directory. */
  const toldShared = new Set<string>();

  const refresh = (task: TrackedTask): void => {
    const statusId = task.statusId;
    if (statusId === null || task.finished) return;
    if (ledger.finishOnOutcome(task)) {
      updateTyping(task.chat);
      background.run('final answer', messages.deliverFinal(task, statusId));
      return;
    }
    if (task.statusGone) return;
    const content = renderStatus(task.view, task.chat.platform.limits);
    if (content.formatted === task.lastRendered) return;
    task.lastRendered = content.formatted;
    background.run('status edit', messages.editStatus(task, statusId, content));
  };

  const apply = (task: TrackedTask, node: NodeSnapshot, event: ProgressEvent): void => {
    task.view = reduceTaskView(task.view, event);
    task.state = node.state;
    if (event.type === 'outcome') ledger.sawOutcome(node.id);
    updateTyping(task.chat);
    refresh(task);
  };

  /** A node we did not submit in this process (re-queued after a restart) is followed through its status message. */
  const adopt = (node: NodeSnapshot): TrackedTask | undefined => {
    if (ledger.isDelivered(node.id) || (node.state !== 'queued' && node.state !== 'running'))
      return undefined;
    const status = node.messages.find((m) => m.role === 'status');
    const prompt = node.messages.find((m) => m.role === 'prompt');
    if (!status) return undefined;
    const chat = options.chatFor(status.ref);
    if (!chat) return undefined;
    const parent = node.parentId === null ? undefined : engine.getNode(node.parentId);
    const forks = parent !== undefined && (parent.sessionId !== null || node.forkOf != null);
    const task = newTrackedTask(
      node,
      chat,
      prompt?.ref.messageId ?? status.ref.messageId,
      forks ? parent : null,
    );
    task.statusId = status.ref.messageId;
    task.lastRendered = '';
    ledger.follow(task);
    return task;
  };

  const unsubscribe = engine.subscribe((node, event) => {
    try {
      const task = ledger.get(node.id) ?? adopt(node);
      if (task) apply(task, node, event);
      else ledger.hold(node.id, event);
    } catch (error) {
      logger.error({ err: error, nodeId: node.id }, 'could not render a progress event');
    }
  });

  return {
    async startTask(chat, start) {
      const workspace = options.workspaceOf?.(chat.key);
      const replyTo = start.replyToMessageId === null ? null : refOf(chat, start.replyToMessageId);
      // A new conversation takes the chat's /mode; a reply keeps its conversation's.
      const mode = replyTo !== null && engine.findNodeByMessage(replyTo) ? null : options.modes.get(chat.key);
      const result = await ledger.submitting(() =>
        engine.submit({
          ...(workspace === undefined ? {} : { workspace }),
          prompt: start.prompt,
          origin: refOf(chat, start.messageId),
          replyTo,
          ...(mode === null ? {} : { run: { permissionMode: mode } }),
        }),
      );
      if (result.kind === 'rejected') {
        ledger.dropHeld();
        await chat.outbox.send(chat.chatId, sentence(chat, `⚠️ ${result.reason}`), {
          replyToMessageId: start.messageId,
        });
        return;
      }
      const { node, forkedFrom } = result;
      const task = newTrackedTask(node, chat, start.messageId, forkedFrom);
      ledger.follow(task);
      const held = ledger.takeHeld(node.id);
      const latest = engine.getNode(node.id) ?? node;
      for (const event of held) apply(task, latest, event);
      for (const messageId of start.alsoLink ?? []) {
        await engine.linkMessage(node.id, refOf(chat, messageId), 'continuation');
      }
      for (const messageId of start.alsoPrompts ?? []) {
        await engine.linkMessage(node.id, refOf(chat, messageId), 'prompt');
      }
      const { statusId, rendered } = await messages.sendStatus(task);
      task.statusId = statusId;
      task.lastRendered = rendered;
      refresh(task);
      if (result.sharedDirectory === true && !toldShared.has(chat.key)) {
        toldShared.add(chat.key);
        await chat.outbox.send(chat.chatId, sentence(chat, sharedDirectoryNotice(node.workingDirectory)), {
          replyToMessageId: start.messageId,
        });
      }
    },

    forget(nodeIds) {
      for (const chat of ledger.forget(nodeIds)) updateTyping(chat);
    },

    announceInterrupted: (nodes) => messages.announceInterrupted(nodes),

    close() {
      unsubscribe();
      typing.close();
    },
  };
}

function sharedDirectoryNotice(directory: string): string {
  return `ℹ️ This project is not in a git repository (or its repository ignores it, or git is not installed), so its branches share one directory (${directory}): forks see each other's edits. Run git init there (and commit) to give each fork its own worktree.`;
}
