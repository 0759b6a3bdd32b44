import type { Logger } from 'pino';
import type { MessageRef, NodeSnapshot, SessionEngine } from '../sessions/index.js';
import { type ChatContext, refOf, sentence } from './chat-context.js';
import { interruptedNotice } from './notices.js';
import type { ChatFile } from './outbox/index.js';
import { ChatApiError } from './outbox/index.js';
import {
  type Formatted,
  renderFinal,
  renderStatus,
  renderSteps,
  renderStepsFile,
  type TaskView,
} from './render/index.js';
import type { StepsShelf } from './task-steps.js';
import type { TrackedTask } from './tracked-task.js';

// The chat messages of a task: its status message and the edits to it, the final answer (continued in
// further messages, each linked to the node so a reply to any of them forks it), and the restart notice.

export interface TaskMessagesOptions {
  engine: SessionEngine;
  chatFor(ref: MessageRef): ChatContext | undefined;
  logger: Logger;
  /** Where the steps wait for a press in chats that cannot collapse them. */
  steps: StepsShelf;
}

export interface TaskMessages {
  /** Sends the task's status message as a reply to the user's and links it to the node; its id and text. */
  sendStatus(task: TrackedTask): Promise<{ statusId: string; rendered: string }>;
  /** A progress edit; a status message the user deleted is not edited again. */
  editStatus(task: TrackedTask, statusId: string, content: Formatted): Promise<void>;
  deliverFinal(task: TrackedTask, statusId: string): Promise<void>;
  /** Tells each chat which of its tasks a restart interrupted, replying to the task's status or prompt. */
  announceInterrupted(nodes: readonly NodeSnapshot[]): Promise<void>;
}

const isNotFound = (error: unknown): boolean => error instanceof ChatApiError && error.kind === 'not_found';

export function createTaskMessages(options: TaskMessagesOptions): TaskMessages {
  const { engine, logger } = options;

  /** The answer's first part replaces the status message; if that message is gone it becomes a new one. */
  const placeFirstPart = async (task: TrackedTask, statusId: string, first: Formatted): Promise<string> => {
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

  return {
    async sendStatus(task) {
      const { chat } = task;
      const content = renderStatus(task.view, chat.platform.limits);
      const sent = await chat.outbox.send(chat.chatId, content, { replyToMessageId: task.userMessageId });
      await engine.linkMessage(task.nodeId, refOf(chat, sent.messageId), 'status');
      return { statusId: sent.messageId, rendered: content.formatted };
    },

    async editStatus(task, statusId, content) {
      try {
        await task.chat.outbox.edit(task.chat.chatId, statusId, content);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        task.statusGone = true;
      }
    },

    async deliverFinal(task, statusId) {
      const { chat } = task;
      const { answer, stepsAfter, shelved, file } = finalLayout(task, options.steps);
      const [first, ...rest] = answer;
      const anchor = first ? await placeFirstPart(task, statusId, first) : statusId;
      const sendLinked = async (part: Formatted): Promise<string> => {
        const sent = await chat.outbox.send(chat.chatId, part, { replyToMessageId: anchor });
        await engine.linkMessage(task.nodeId, refOf(chat, sent.messageId), 'continuation');
        return sent.messageId;
      };
      let lastId = anchor;
      for (const part of rest) lastId = await sendLinked(part);
      for (const part of stepsAfter) await sendLinked(part);
      const lastContent = answer.at(-1);
      if (shelved.length > 0 && lastContent) {
        options.steps.place(task.nodeId, {
          chat,
          messageId: lastId,
          content: lastContent,
          steps: shelved,
          ...(file === undefined ? {} : { file }),
        });
      }
    },

    async announceInterrupted(nodes) {
      for (const node of nodes) {
        const anchor =
          node.messages.find((m) => m.role === 'status') ?? node.messages.find((m) => m.role === 'prompt');
        const chat = anchor ? options.chatFor(anchor.ref) : undefined;
        if (!anchor || !chat) continue;
        try {
          const sent = await chat.outbox.send(chat.chatId, sentence(chat, interruptedNotice(node.prompt)), {
            replyToMessageId: anchor.ref.messageId,
          });
          await engine.linkMessage(node.id, refOf(chat, sent.messageId), 'continuation');
        } catch (error) {
          logger.warn({ err: error, nodeId: node.id }, 'could not announce an interrupted task');
        }
      }
    },
  };
}

/** The text the answer shows: the steps leave out narration it already holds. */
function answerText(view: TaskView): string {
  return view.outcome?.kind === 'done' && view.outcome.text.trim() ? view.outcome.text : view.answer;
}

const STEPS_GAP = '\n\n';
const STEPS_FILE = 'steps.md';

type ShelvedFile = { caption: Formatted; file: ChatFile };

/**
 * The finished task's messages: the answer, and the steps that led to it. Collapsed (Telegram) they lead the
 * answer's first message when they fit, else follow the answer as messages of their own; otherwise they wait
 * behind a button on the answer's last message, as one `steps.md` file when one message cannot hold them (a
 * press then brings one message, not a screenful).
 */
function finalLayout(
  task: TrackedTask,
  shelf: StepsShelf,
): { answer: Formatted[]; stepsAfter: Formatted[]; shelved: Formatted[]; file?: ShelvedFile } {
  const { limits } = task.chat.platform;
  const answer = renderFinal(task.view, limits, { footer: true });
  const collapsible = limits.dialect.collapsible ?? null;
  const steps = renderSteps(task.view.steps, answerText(task.view), limits, collapsible);
  if (steps.length === 0 || answer.length === 0) return { answer, stepsAfter: steps, shelved: [] };
  if (collapsible === null) {
    const last = answer.at(-1)!;
    const withButton = { ...last, buttons: [shelf.button(task.nodeId)] };
    const whole =
      steps.length > 1 ? renderStepsFile(task.view.steps, answerText(task.view), limits.dialect) : null;
    const file =
      whole === null
        ? undefined
        : { caption: whole.caption, file: { name: STEPS_FILE, data: new TextEncoder().encode(whole.text) } };
    return {
      answer: [...answer.slice(0, -1), withButton],
      stepsAfter: [],
      shelved: steps,
      ...(file === undefined ? {} : { file }),
    };
  }
  const [lead] = steps;
  // Before the answer's first message (Telegram: the answer ends the message, where the eye lands), or after its
  // last (the console's fold under the answer).
  const after = collapsible.after === true;
  const host = after ? answer.at(-1)! : answer[0]!;
  const joined: Formatted = after
    ? {
        ...host,
        formatted: host.formatted + STEPS_GAP + lead!.formatted,
        plain: host.plain + STEPS_GAP + lead!.plain,
      }
    : {
        ...host,
        formatted: lead!.formatted + STEPS_GAP + host.formatted,
        plain: lead!.plain + STEPS_GAP + host.plain,
      };
  if (steps.length === 1 && Math.max(joined.formatted.length, joined.plain.length) <= limits.maxLength) {
    return {
      answer: after ? [...answer.slice(0, -1), joined] : [joined, ...answer.slice(1)],
      stepsAfter: [],
      shelved: [],
    };
  }
  return { answer, stepsAfter: steps, shelved: [] };
}
