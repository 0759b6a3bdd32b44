import { type REST, Routes } from 'discord.js';
import type { MessagingPlatform } from '../platform.js';
import type { ChatButton } from '../render/index.js';
import { discordCall, toDiscordChatApiError } from './errors.js';
import { DISCORD_MAX_LENGTH } from './limits.js';

// Everything we send goes over REST: messages (with buttons and reply references), edits, deletions, typing.
// Mentions in our text never ping (`allowed_mentions` is empty).

export { DISCORD_MAX_LENGTH };

export type DiscordTransport = Pick<MessagingPlatform, 'send' | 'edit' | 'delete' | 'sendTyping'>;

/** `rest` is read at each call: a login attempt replaces the client, and with it the REST handle. */
export function createDiscordTransport(rest: () => REST): DiscordTransport {
  return {
    async sendTyping(chatId) {
      await discordCall(() => rest().post(Routes.channelTyping(chatId)));
    },

    async send(chatId, text, sendOptions) {
      const created: unknown = await discordCall(() =>
        rest().post(Routes.channelMessages(chatId), {
          ...(sendOptions.file === undefined
            ? {}
            : { files: [{ name: sendOptions.file.name, data: Buffer.from(sendOptions.file.data) }] }),
          body: {
            content: text,
            allowed_mentions: { parse: [] },
            ...(sendOptions.file === undefined
              ? {}
              : { attachments: [{ id: 0, filename: sendOptions.file.name }] }),
            ...(sendOptions.buttons?.length ? { components: componentsOf(sendOptions.buttons) } : {}),
            ...(sendOptions.replyToMessageId
              ? { message_reference: { message_id: sendOptions.replyToMessageId, fail_if_not_exists: false } }
              : {}),
          },
        }),
      );
      if (
        typeof created !== 'object' ||
        created === null ||
        !('id' in created) ||
        typeof created.id !== 'string'
      ) {
        throw toDiscordChatApiError(new Error('Discord answered a message create without an id'));
      }
      return { messageId: created.id };
    },

    async edit(chatId, messageId, text, editOptions) {
      await discordCall(() =>
        rest().patch(Routes.channelMessage(chatId, messageId), {
          body: {
            content: text,
            allowed_mentions: { parse: [] },
            ...(editOptions.buttons === undefined ? {} : { components: componentsOf(editOptions.buttons) }),
          },
        }),
      );
    },

    async delete(chatId, messageId) {
      await discordCall(() => rest().delete(Routes.channelMessage(chatId, messageId)));
    },
  };
}

const BUTTON_STYLES: Record<ChatButton['style'], number> = {
  primary: 1,
  secondary: 2,
  success: 3,
  danger: 4,
};

/** Discord allows five buttons in one action row. */
const ROW = 5;

/** Action rows of buttons (component type 1 holding type 2), five to a row; an empty list removes them. */
function componentsOf(buttons: readonly ChatButton[]): object[] {
  const rows: object[] = [];
  for (let start = 0; start < buttons.length; start += ROW) {
    rows.push({
      type: 1,
      components: buttons.slice(start, start + ROW).map((button) => ({
        type: 2,
        style: BUTTON_STYLES[button.style],
        label: button.label,
        custom_id: button.id,
      })),
    });
  }
  return rows;
}
