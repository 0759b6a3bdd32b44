import { ChatApiError, type ChatTransport } from '../../../platforms/outbox/index.js';

// A stand-in for a chat platform's API (an external service): records every call with its time and answers
// from a script, so tests can play 429 storms, formatting rejections and outages.

export interface TransportCall {
  at: number;
  kind: 'send' | 'edit' | 'delete';
  chatId: string;
  messageId: string;
  text: string;
  formatted: boolean;
  replyToMessageId?: string;
}

/** Returns an error to fail this call with, or undefined to let it succeed. */
export type Script = (call: TransportCall, attempt: number) => ChatApiError | undefined;

export interface ScriptedTransport extends ChatTransport {
  calls: TransportCall[];
  /** Calls that succeeded, in order. */
  delivered: TransportCall[];
  /** The text each message shows now. */
  shown: Map<string, string>;
}

export function createScriptedTransport(
  now: () => number,
  script: Script = () => undefined,
): ScriptedTransport {
  const calls: TransportCall[] = [];
  const delivered: TransportCall[] = [];
  const shown = new Map<string, string>();
  let nextId = 1;
  const perform = async (call: TransportCall): Promise<void> => {
    calls.push(call);
    const error = script(call, calls.length);
    if (error) throw error;
    delivered.push(call);
  };
  return {
    calls,
    delivered,
    shown,
    async send(chatId, text, options) {
      const messageId = String(nextId);
      const call: TransportCall = {
        at: now(),
        kind: 'send',
        chatId,
        messageId,
        text,
        formatted: options.formatted,
      };
      if (options.replyToMessageId !== undefined) call.replyToMessageId = options.replyToMessageId;
      await perform(call);
      nextId++;
      shown.set(`${chatId}/${messageId}`, text);
      return { messageId };
    },
    async edit(chatId, messageId, text, options) {
      await perform({ at: now(), kind: 'edit', chatId, messageId, text, formatted: options.formatted });
      shown.set(`${chatId}/${messageId}`, text);
    },
    async delete(chatId, messageId) {
      await perform({ at: now(), kind: 'delete', chatId, messageId, text: '', formatted: false });
      shown.delete(`${chatId}/${messageId}`);
    },
  };
}

export const rateLimited = (retryAfterMs?: number): ChatApiError =>
  new ChatApiError('rate_limited', 'Too Many Requests', {
    status: 429,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

/** The largest number of calls (per chat) that fall in any window of `windowMs`. */
export function maxInAnyWindow(calls: readonly TransportCall[], windowMs: number): number {
  let max = 0;
  const byChat = new Map<string, number[]>();
  for (const call of calls) byChat.set(call.chatId, [...(byChat.get(call.chatId) ?? []), call.at]);
  for (const times of byChat.values()) {
    times.sort((a, b) => a - b);
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while ((times[end] as number) - (times[start] as number) >= windowMs) start++;
      max = Math.max(max, end - start + 1);
    }
  }
  return max;
}
