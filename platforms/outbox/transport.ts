import type { ChatButton } from '../render/index.js';

// What the outbox sends through: one chat platform's API. Failures are thrown as ChatApiError.

/** A file sent with a message (a long /diff): the message's text is then its caption. */
export interface ChatFile {
  name: string;
  data: Uint8Array;
}

export interface ChatTransport {
  /** `file`: sent as a document with `text` as its caption (keep it short: Telegram allows 1024 characters). */
  send(
    chatId: string,
    text: string,
    options: { formatted: boolean; replyToMessageId?: string; buttons?: ChatButton[]; file?: ChatFile },
  ): Promise<{ messageId: string }>;
  /** `buttons: []` removes a message's buttons; without `buttons` the platform's default applies. */
  edit(
    chatId: string,
    messageId: string,
    text: string,
    options: { formatted: boolean; buttons?: ChatButton[] },
  ): Promise<void>;
  delete(chatId: string, messageId: string): Promise<void>;
}
