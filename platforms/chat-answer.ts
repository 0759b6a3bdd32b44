import type { ChatContext } from './chat-context.js';
import type { Incoming } from './platform.js';
import { renderMarkdown } from './render/index.js';

/** Answers in Markdown: a slash command in place, anything else as a reply through the chat's outbox. */
export async function answerIncoming(chat: ChatContext, incoming: Incoming, markdown: string): Promise<void> {
  const parts = renderMarkdown(markdown, chat.platform.limits);
  if (incoming.kind === 'command') {
    await incoming.respond(parts.map((part) => part.formatted).join('\n') || markdown);
    return;
  }
  for (const part of parts) {
    await chat.outbox.send(chat.chatId, part, { replyToMessageId: incoming.messageId });
  }
}
