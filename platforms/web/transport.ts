import { ChatApiError, type ChatFile, type ChatTransport } from '../outbox/index.js';
import type { LoggedChange, MessageLog, WebFile, WebMessage } from './message-log.js';

// What the controller sends to the console: each send, edit and deletion becomes a change in the message log,
// published to the pages that follow it. An edit of a message that is gone is a not_found, as a chat API says.

export function createWebTransport(
  log: MessageLog,
  publish: (change: LoggedChange | null) => void,
  newId: () => string,
): ChatTransport {
  return {
    async send(_chatId, text, options) {
      const message = relayMessage(newId(), text, options.formatted, options.replyToMessageId ?? null);
      const files = options.file === undefined ? [] : [shownFile(options.file)];
      publish(log.put({ ...message, buttons: options.buttons ?? [], files }));
      return { messageId: message.id };
    },

    async edit(_chatId, messageId, text, options) {
      const before = log.get(messageId);
      if (before === undefined) throw new ChatApiError('not_found', `no console message ${messageId}`);
      const after = relayMessage(messageId, text, options.formatted, before.replyTo);
      publish(log.put({ ...after, at: before.at, buttons: options.buttons ?? before.buttons }));
    },

    async delete(_chatId, messageId) {
      publish(log.remove(messageId));
    },
  };
}

/** Text the page can show (a patch); anything else is named with its size only. */
const MAX_SHOWN_BYTES = 1024 * 1024;

function shownFile(file: ChatFile): WebFile {
  const sizeBytes = file.data.byteLength;
  if (sizeBytes > MAX_SHOWN_BYTES) return { name: file.name, sizeBytes };
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(file.data);
    return { name: file.name, sizeBytes, text };
  } catch {
    return { name: file.name, sizeBytes };
  }
}

function relayMessage(id: string, text: string, formatted: boolean, replyTo: string | null): WebMessage {
  return {
    id,
    author: 'relay',
    replyTo,
    html: formatted ? text : null,
    text: formatted ? '' : text,
    buttons: [],
    files: [],
    at: Date.now(),
  };
}
