import { type Api, InputFile } from 'grammy';
import type { MessagingPlatform } from '../platform.js';
import type { ChatButton } from '../render/index.js';
import { telegramCall } from './errors.js';
import { TELEGRAM_MAX_LENGTH } from './limits.js';
import { apiTarget } from './topics.js';

// What we send through the Bot API: messages in HTML parse mode (or none, for a plain fallback), with inline
// buttons and reply references, edits, deletions, typing. Link previews stay off.

export { TELEGRAM_MAX_LENGTH };

export type TelegramTransport = Pick<MessagingPlatform, 'send' | 'edit' | 'delete' | 'sendTyping'>;

export function createTelegramTransport(api: Api): TelegramTransport {
  return {
    async sendTyping(ourChatId) {
      const { chatId, threadId } = apiTarget(ourChatId);
      await telegramCall(() =>
        api.sendChatAction(chatId, 'typing', threadId === undefined ? {} : { message_thread_id: threadId }),
      );
    },

    async send(ourChatId, text, sendOptions) {
      const { chatId, threadId } = apiTarget(ourChatId);
      const { file } = sendOptions;
      if (file !== undefined) {
        const document = await telegramCall(() =>
          api.sendDocument(chatId, new InputFile(file.data, file.name), {
            ...(threadId === undefined ? {} : { message_thread_id: threadId }),
            caption: text,
            ...(sendOptions.formatted ? { parse_mode: 'HTML' as const } : {}),
            ...(sendOptions.replyToMessageId
              ? {
                  reply_parameters: {
                    message_id: Number(sendOptions.replyToMessageId),
                    allow_sending_without_reply: true,
                  },
                }
              : {}),
          }),
        );
        return { messageId: String(document.message_id) };
      }
      const message = await telegramCall(() =>
        api.sendMessage(chatId, text, {
          ...(threadId === undefined ? {} : { message_thread_id: threadId }),
          ...(sendOptions.formatted ? { parse_mode: 'HTML' as const } : {}),
          link_preview_options: { is_disabled: true },
          ...(sendOptions.buttons?.length ? { reply_markup: keyboardOf(sendOptions.buttons) } : {}),
          ...(sendOptions.replyToMessageId
            ? {
                reply_parameters: {
                  message_id: Number(sendOptions.replyToMessageId),
                  allow_sending_without_reply: true,
                },
              }
            : {}),
        }),
      );
      return { messageId: String(message.message_id) };
    },

    async edit(ourChatId, messageId, text, editOptions) {
      const { chatId } = apiTarget(ourChatId);
      await telegramCall(() =>
        api.editMessageText(chatId, Number(messageId), text, {
          ...(editOptions.formatted ? { parse_mode: 'HTML' as const } : {}),
          link_preview_options: { is_disabled: true },
          ...(editOptions.buttons === undefined ? {} : { reply_markup: keyboardOf(editOptions.buttons) }),
        }),
      );
    },

    async delete(ourChatId, messageId) {
      await telegramCall(() => api.deleteMessage(apiTarget(ourChatId).chatId, Number(messageId)));
    },
  };
}

/** One row of inline buttons; an empty list removes the keyboard. */
function keyboardOf(buttons: readonly ChatButton[]): {
  inline_keyboard: Array<Array<{ text: string; callback_data: string }>>;
} {
  return {
    inline_keyboard:
      buttons.length === 0
        ? []
        : [buttons.map((button) => ({ text: button.label, callback_data: button.id }))],
  };
}
