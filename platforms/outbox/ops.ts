import type { Formatted } from '../render/index.js';
import type { ChatFile, ChatTransport } from './transport.js';
import type { Waiter } from './waiter.js';

// One queued operation of a chat with everyone waiting for it, and the transport call that performs it.

export type SendOp = {
  kind: 'send';
  content: Formatted;
  replyToMessageId?: string;
  file?: ChatFile;
  waiters: Waiter<{ messageId: string }>[];
};
export type EditOp = { kind: 'edit'; messageId: string; content: Formatted; waiters: Waiter<void>[] };
export type DeleteOp = { kind: 'delete'; messageId: string; waiters: Waiter<void>[] };
export type Op = SendOp | EditOp | DeleteOp;

/** One API call for the op, formatted or as plain text; a send's result carries the new message's id. */
export function callTransport(
  transport: ChatTransport,
  chatId: string,
  op: Op,
  formatted: boolean,
): Promise<{ messageId: string } | undefined> {
  switch (op.kind) {
    case 'send':
      return transport.send(chatId, formatted ? op.content.formatted : op.content.plain, {
        formatted,
        ...(op.replyToMessageId === undefined ? {} : { replyToMessageId: op.replyToMessageId }),
        ...(op.content.buttons === undefined ? {} : { buttons: op.content.buttons }),
        ...(op.file === undefined ? {} : { file: op.file }),
      });
    case 'edit':
      return transport
        .edit(chatId, op.messageId, formatted ? op.content.formatted : op.content.plain, {
          formatted,
          ...(op.content.buttons === undefined ? {} : { buttons: op.content.buttons }),
        })
        .then(() => undefined);
    case 'delete':
      return transport.delete(chatId, op.messageId).then(() => undefined);
  }
}
