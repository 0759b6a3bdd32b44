import type { Logger } from 'pino';
import type { SessionEngine } from '../sessions/index.js';
import { type ChatContext, refOf } from './chat-context.js';
import type { ChatFile } from './outbox/index.js';
import type { ChatButton, Formatted } from './render/index.js';

// A finished task's steps where the chat cannot collapse them (Discord): the answer carries a "Show steps"
// button, and a press sends the steps as replies to it: one message, or one steps.md file when they are longer. Kept in memory for the most recent tasks only; a press
// after a restart, or on a task long past, is told so.

export interface StepsShelf {
  /** The button to put under the answer's last message; `place` it once that message exists. */
  button(nodeId: string): ChatButton;
  place(nodeId: string, shelved: ShelvedSteps): void;
  /** A button press; `null` when the button is not a steps button. */
  press(data: string): Promise<string | null>;
}

export interface ShelvedSteps {
  chat: ChatContext;
  /** The message the button sits under, and its content (to take the button off once pressed). */
  messageId: string;
  content: Formatted;
  steps: Formatted[];
  /** The steps as one file, for steps one message cannot hold: sent instead of `steps`. */
  file?: { caption: Formatted; file: ChatFile };
}

const PREFIX = 'steps:';
export const STEPS_SHELVED = 200;

export function createStepsShelf(options: { engine: SessionEngine; logger: Logger }): StepsShelf {
  const shelved = new Map<string, ShelvedSteps>();

  return {
    button: (nodeId) => ({ id: `${PREFIX}${nodeId}`, label: 'Show steps', style: 'secondary' }),

    place(nodeId, entry) {
      shelved.delete(nodeId);
      shelved.set(nodeId, entry);
      for (const oldest of shelved.keys()) {
        if (shelved.size <= STEPS_SHELVED) break;
        shelved.delete(oldest);
      }
    },

    async press(data) {
      if (!data.startsWith(PREFIX)) return null;
      const nodeId = data.slice(PREFIX.length);
      const entry = shelved.get(nodeId);
      if (!entry)
        return 'The steps of this task are no longer kept (the relay restarted or it is long past).';
      shelved.delete(nodeId);
      const { chat } = entry;
      const replyTo = { replyToMessageId: entry.messageId };
      const messages =
        entry.file === undefined
          ? entry.steps.map((part) => ({ content: part, options: replyTo }))
          : [{ content: entry.file.caption, options: { ...replyTo, file: entry.file.file } }];
      for (const message of messages) {
        const sent = await chat.outbox.send(chat.chatId, message.content, message.options);
        await options.engine.linkMessage(nodeId, refOf(chat, sent.messageId), 'continuation');
      }
      await chat.outbox
        .edit(chat.chatId, entry.messageId, { ...entry.content, buttons: [] })
        .catch((error: unknown) => options.logger.warn({ err: error, nodeId }, 'could not remove a button'));
      return 'The steps are below the answer.';
    },
  };
}
