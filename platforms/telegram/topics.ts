// Forum topics: each topic of a forum supergroup is a chat of its own for the relay (its own queue, rate window
// and conversations), so its chat id carries the topic: `<chat id>/<topic id>`. The Bot API takes them apart
// again: the chat id for every call, the topic (`message_thread_id`) where a message is sent.

export interface TopicMessage {
  chat: { id: number };
  message_id: number;
  message_thread_id?: number;
  is_topic_message?: boolean;
  reply_to_message?: { message_id: number };
}

const SEPARATOR = '/';

/** The relay's chat id of a message: its topic's when it was written in a forum topic. */
export function chatIdOf(message: TopicMessage): string {
  const topic = message.is_topic_message === true ? message.message_thread_id : undefined;
  return topic === undefined ? String(message.chat.id) : `${message.chat.id}${SEPARATOR}${topic}`;
}

/** The Bot API's chat id and topic for one of our chat ids. */
export function apiTarget(chatId: string): { chatId: string; threadId: number | undefined } {
  const at = chatId.indexOf(SEPARATOR);
  if (at < 0) return { chatId, threadId: undefined };
  return { chatId: chatId.slice(0, at), threadId: Number(chatId.slice(at + 1)) };
}

/**
 * The message replied to, if any. In a topic every message "replies" to the topic's first message unless the
 * user really replied to one: that one is no reply.
 */
export function replyToOf(message: TopicMessage): string | null {
  const reply = message.reply_to_message;
  if (!reply) return null;
  if (message.is_topic_message === true && reply.message_id === message.message_thread_id) return null;
  return String(reply.message_id);
}
