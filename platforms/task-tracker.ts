import type { Logger } from 'pino';
import type { MessageRef, NodeSnapshot, NodeState, ProgressEvent, SessionEngine } from '../sessions/index.js';
import { type Background, type ChatContext, refOf, sentence } from './chat-context.js';
import { interruptedNotice } from './notices.js';
import { ChatApiError } from './outbox/index.js';
import {
  createTaskView,
  type Formatted,
  reduceTaskView,
  renderFinal,
  renderStatus,
  type TaskView,
} from './render/index.js';

// Turns engine events into chat: one status message per task, edited as the task progresses (the outbox
// coalesces the edits), then the whole final answer, continued in further messages, each linked to the node
// so a reply to any of them forks it. Also keeps "typing…" up while a chat has a running task.

interface Tracked {
  nodeId: string;
  chat: ChatContext;
  userMessageId: string;
  statusId: string | null;
  view: TaskView;
  state: NodeState;
  lastRendered: string | null;
  finished: boolean;
  /** The status message was deleted (by the user): progress edits stop, the answer goes out as a new message. */
  statusGone: boolean;
}

const isNotFound = (error: unknown): boolean => error instanceof ChatApiError && error.kind === 'not_found';

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
  typingIntervalMs?: number;
}

export function createTaskTracker(options: TaskTrackerOptions): TaskTracker {
  const { engine, background, logger } = options;
  const tracked = new Map<string, Tracked>();
  const typing = new Map<string, ReturnType<typeof setInterval>>();
  // Events of a node that arrive before `submit` resolves are held until the node is tracked.
  let submitting = 0;
  const early = new Map<string, ProgressEvent[]>();
  // The final answer goes out once the outcome event was folded in (the state can change before it).
  const outcomeSeen = new Set<string>();
  // Nodes whose final answer is out: later events (a trailing state change) must not re-adopt and overwrite it.
  const delivered = new Set<string>();

  const updateTyping = (chat: ChatContext): void => {
    const running = [...tracked.values()].some(
      (t) => t.chat === chat && t.state === 'running' && !t.finished,
    );
    const timer = typing.get(chat.key);
    if (running && timer === undefined) {
      const tick = (): void => background.run('typing', chat.platform.sendTyping(chat.chatId));
      tick();
      const interval = setInterval(tick, options.typingIntervalMs ?? 4000);
      interval.unref();
      typing.set(chat.key, interval);
    } else if (!running && timer !== undefined) {
      clearInterval(timer);
      typing.delete(chat.key);
    }
  };

  /** The answer's first part replaces the status message; if that message is gone it becomes a new one. */
  const placeFirstPart = async (task: Tracked, statusId: string, first: Formatted): Promise<string> => {
    const { chat } = task;
    if (!task.statusGone) {
      try {
        await chat.outbox.edit(chat.chatId, statusId, first);
        return statusId;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    logger.info({ nodeId: task.nodeId, chat: chat.key }, 'status message is gone; sending the answer anew');
    const sent = await chat.outbox.send(chat.chatId, first, { replyToMessageId: task.userMessageId });
    await engine.linkMessage(task.nodeId, refOf(chat, sent.messageId), 'continuation');
    return sent.messageId;
  };

  const deliverFinal = async (task: Tracked, statusId: string): Promise<void> => {
    const { chat } = task;
    const parts = renderFinal(task.view, chat.platform.limits, { footer: true });
    const [first, ...rest] = parts;
    const anchor = first ? await placeFirstPart(task, statusId, first) : statusId;
    for (const part of rest) {
      const sent = await chat.outbox.send(chat.chatId, part, { replyToMessageId: anchor });
      await engine.linkMessage(task.nodeId, refOf(chat, sent.messageId), 'continuation');
    }
  };

  /** A progress edit; a status message the user deleted is not edited again. */
  const editStatus = async (task: Tracked, statusId: string, content: Formatted): Promise<void> => {
    try {
      await task.chat.outbox.edit(task.chat.chatId, statusId, content);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      task.statusGone = true;
    }
  };

  const refresh = (task: Tracked): void => {
    const statusId = task.statusId;
    if (statusId === null || task.finished) return;
    if (outcomeSeen.has(task.nodeId)) {
      outcomeSeen.delete(task.nodeId);
      delivered.add(task.nodeId);
      task.finished = true;
      tracked.delete(task.nodeId);
      updateTyping(task.chat);
      background.run('final answer', deliverFinal(task, statusId));
      return;
    }
    if (task.statusGone) return;
    const content = renderStatus(task.view, task.chat.platform.limits);
    if (content.formatted === task.lastRendered) return;
    task.lastRendered = content.formatted;
    background.run('status edit', editStatus(task, statusId, content));
  };

  const apply = (task: Tracked, node: NodeSnapshot, event: ProgressEvent): void => {
    task.view = reduceTaskView(task.view, event);
    task.state = node.state;
    if (event.type === 'outcome') outcomeSeen.add(node.id);
    updateTyping(task.chat);
    refresh(task);
  };

  /** A node we did not submit in this process (re-queued after a restart) is followed through its status message. */
  const adopt = (node: NodeSnapshot): Tracked | undefined => {
    if (delivered.has(node.id) || (node.state !== 'queued' && node.state !== 'running')) return undefined;
    const status = node.messages.find((m) => m.role === 'status');
    const prompt = node.messages.find((m) => m.role === 'prompt');
    if (!status) return undefined;
    const chat = options.chatFor(status.ref);
    if (!chat) return undefined;
    const task: Tracked = {
      nodeId: node.id,
      chat,
      userMessageId: prompt?.ref.messageId ?? status.ref.messageId,
      statusId: status.ref.messageId,
      view: createTaskView(node),
      state: node.state,
      lastRendered: '',
      finished: false,
      statusGone: false,
    };
    tracked.set(node.id, task);
    return task;
  };

  const unsubscribe = engine.subscribe((node, event) => {
    try {
      const task = tracked.get(node.id) ?? adopt(node);
      if (task) {
        apply(task, node, event);
      } else if (submitting > 0) {
        const list = early.get(node.id) ?? [];
        list.push(event);
        early.set(node.id, list);
      }
    } catch (error) {
      logger.error({ err: error, nodeId: node.id }, 'could not render a progress event');
    }
  });

  return {
    async startTask(chat, start) {
      submitting += 1;
      let result: Awaited<ReturnType<SessionEngine['submit']>>;
      try {
        result = await engine.submit({
          prompt: start.prompt,
          origin: refOf(chat, start.messageId),
          replyTo: start.replyToMessageId === null ? null : refOf(chat, start.replyToMessageId),
        });
      } finally {
        submitting -= 1;
      }
      if (result.kind === 'rejected') {
        early.clear();
        await chat.outbox.send(chat.chatId, sentence(chat, `⚠️ ${result.reason}`), {
          replyToMessageId: start.messageId,
        });
        return;
      }
      const { node } = result;
      const task: Tracked = {
        nodeId: node.id,
        chat,
        userMessageId: start.messageId,
        statusId: null,
        view: createTaskView(node),
        state: node.state,
        lastRendered: null,
        finished: false,
        statusGone: false,
      };
      tracked.set(node.id, task);
      const held = early.get(node.id) ?? [];
      early.delete(node.id);
      if (submitting === 0) early.clear();
      const latest = engine.getNode(node.id) ?? node;
      for (const event of held) apply(task, latest, event);
      for (const messageId of start.alsoLink ?? []) {
        await engine.linkMessage(node.id, refOf(chat, messageId), 'continuation');
      }
      for (const messageId of start.alsoPrompts ?? []) {
        await engine.linkMessage(node.id, refOf(chat, messageId), 'prompt');
      }
      const content: Formatted = renderStatus(task.view, chat.platform.limits);
      const sent = await chat.outbox.send(chat.chatId, content, { replyToMessageId: start.messageId });
      await engine.linkMessage(node.id, refOf(chat, sent.messageId), 'status');
      task.statusId = sent.messageId;
      task.lastRendered = content.formatted;
      refresh(task);
    },

    forget(nodeIds) {
      const chats = new Set<ChatContext>();
      for (const id of nodeIds) {
        outcomeSeen.delete(id);
        delivered.add(id);
        const task = tracked.get(id);
        if (!task) continue;
        task.finished = true;
        tracked.delete(id);
        chats.add(task.chat);
      }
      for (const chat of chats) updateTyping(chat);
    },

    async announceInterrupted(nodes) {
      for (const node of nodes) {
        const anchor =
          node.messages.find((m) => m.role === 'status') ?? node.messages.find((m) => m.role === 'prompt');
        const chat = anchor ? options.chatFor(anchor.ref) : undefined;
        if (!anchor || !chat) continue;
        const text = interruptedNotice(node.prompt);
        try {
          const sent = await chat.outbox.send(chat.chatId, sentence(chat, text), {
            replyToMessageId: anchor.ref.messageId,
          });
          await engine.linkMessage(node.id, refOf(chat, sent.messageId), 'continuation');
        } catch (error) {
          logger.warn({ err: error, nodeId: node.id }, 'could not announce an interrupted task');
        }
      }
    },

    close() {
      unsubscribe();
      for (const timer of typing.values()) clearInterval(timer);
      typing.clear();
    },
  };
}
