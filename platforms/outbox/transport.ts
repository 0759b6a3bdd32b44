import type { ChatButton } from '../render/index.js';

// What the outbox sends through: one chat platform's API. Failures are thrown as ChatApiError.

export interface ChatTransport {
  send(
    chatId: string,
    text: string,
    options: { formatted: boolean; replyToMessageId?: string; buttons?: ChatButton[] },
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
