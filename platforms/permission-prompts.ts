import type { Logger } from 'pino';
import type {
  MessageRef,
  NodeSnapshot,
  PermissionDecision,
  ProgressEvent,
  SessionEngine,
} from '../sessions/index.js';
import { type Background, type ChatContext, refOf } from './chat-context.js';
import type { ChatButton, Formatted } from './render/index.js';

// Permission prompts in chat (`CLAUDE_PERMISSIONS=ask`): each pending tool call becomes a message with
// Allow / Always / Deny buttons, sent as a reply to the task's status message (a new message, so the phone
// notifies; an edit would not). When the prompt ends (answered here or by a typed `/allow` `/deny`, expired,
// cancelled) that message is edited to say how, and its buttons go. A button carries the node and request ids
// (at most 52 bytes: Telegram allows 64), so a press needs no state of ours and a stale one is simply refused.

type PermissionEvent = Extract<ProgressEvent, { type: 'permission' }>;

export interface PermissionPrompts {
  /** A button press from an allowed user; `null` when the button is not a permission button. */
  press(data: string): Promise<string | null>;
  /** `/allow`, `/always`, `/deny` as a reply to any message of a task that waits for an answer. */
  answerByReply(chat: ChatContext, replyToMessageId: string, decision: PermissionDecision): Promise<string>;
  close(): void;
}

export interface PermissionPromptsOptions {
  engine: SessionEngine;
  chatFor(ref: MessageRef): ChatContext | undefined;
  background: Background;
  logger: Logger;
}

interface OpenPrompt {
  chat: ChatContext;
  event: PermissionEvent;
  /** The prompt message's id once sent (null if it could not be). */
  message: Promise<string | null>;
}

const CODES: Record<string, PermissionDecision> = { a: 'allow', w: 'always', d: 'deny' };

export function buttonData(nodeId: string, requestId: string, decision: PermissionDecision): string {
  const code = decision === 'allow' ? 'a' : decision === 'always' ? 'w' : 'd';
  return `perm:${code}:${nodeId}:${requestId}`;
}

export function parseButtonData(
  data: string,
): { nodeId: string; requestId: string; decision: PermissionDecision } | null {
  const match = /^perm:([awd]):([^:]+):([^:]+)$/.exec(data);
  const decision = match ? CODES[match[1] ?? ''] : undefined;
  if (!match || decision === undefined) return null;
  return { nodeId: match[2] ?? '', requestId: match[3] ?? '', decision };
}

function verb(toolName: string): string {
  switch (toolName) {
    case 'Bash':
      return 'wants to run';
    case 'Write':
      return 'wants to write';
    case 'Edit':
    case 'MultiEdit':
    case 'NotebookEdit':
      return 'wants to edit';
    case 'WebFetch':
      return 'wants to fetch';
    default:
      return 'wants to use';
  }
}

const ENDED: Record<Exclude<PermissionEvent['status'], 'pending'>, string> = {
  allowed: '✅ Allowed',
  denied: '🚫 Denied',
  expired: '⌛ No answer in time, denied',
  cancelled: '⏹ Cancelled (the task stopped)',
};

/** The prompt's text in the chat's dialect: what wants to happen, then how it ended (if it has). */
export function promptText(
  event: PermissionEvent,
  dialect: ChatContext['platform']['limits']['dialect'],
): Formatted {
  const summary = event.summary.length > 300 ? `${event.summary.slice(0, 299)}…` : event.summary;
  const head =
    event.status === 'pending'
      ? `🔐 ${event.toolName} ${verb(event.toolName)}`
      : `${event.always === true ? '✅ Always allowed in this session' : ENDED[event.status]}: ${event.toolName}`;
  const tail =
    event.status === 'pending'
      ? 'Allow, Always (for this session) or Deny? You can also reply /allow or /deny.'
      : '';
  const formatted = [
    `${dialect.escape(head)}${summary ? ` ${dialect.code(summary)}` : ''}`,
    ...(tail ? [dialect.escape(tail)] : []),
  ].join('\n');
  const plain = [`${head}${summary ? ` ${summary}` : ''}`, ...(tail ? [tail] : [])].join('\n');
  return { formatted, plain };
}

function buttonsFor(event: PermissionEvent, nodeId: string): ChatButton[] {
  return [
    { id: buttonData(nodeId, event.requestId, 'allow'), label: 'Allow', style: 'success' },
    { id: buttonData(nodeId, event.requestId, 'always'), label: 'Always', style: 'primary' },
    { id: buttonData(nodeId, event.requestId, 'deny'), label: 'Deny', style: 'danger' },
  ];
}

export function createPermissionPrompts(options: PermissionPromptsOptions): PermissionPrompts {
  const { engine, background, logger } = options;
  const open = new Map<string, OpenPrompt>();
  /** nodeId → the request id of its open prompt (the CLI asks one at a time). */
  const openByNode = new Map<string, string>();

  const opened = (node: NodeSnapshot, event: PermissionEvent): void => {
    const anchor =
      node.messages.find((m) => m.role === 'status') ?? node.messages.find((m) => m.role === 'prompt');
    const chat = anchor ? options.chatFor(anchor.ref) : undefined;
    if (!anchor || !chat) {
      logger.warn({ nodeId: node.id }, 'permission prompt for a task without a chat: it will expire');
      return;
    }
    const content = promptText(event, chat.platform.limits.dialect);
    const message = (async () => {
      const sent = await chat.outbox.send(
        chat.chatId,
        { ...content, buttons: buttonsFor(event, node.id) },
        { replyToMessageId: anchor.ref.messageId },
      );
      await engine.linkMessage(node.id, refOf(chat, sent.messageId), 'continuation');
      return sent.messageId;
    })().catch((error: unknown) => {
      logger.error({ err: error, nodeId: node.id }, 'could not send a permission prompt');
      return null;
    });
    open.set(`${node.id}:${event.requestId}`, { chat, event, message });
    openByNode.set(node.id, event.requestId);
    background.run('permission prompt', message);
  };

  const ended = (node: NodeSnapshot, event: PermissionEvent): void => {
    const key = `${node.id}:${event.requestId}`;
    const prompt = open.get(key);
    if (!prompt) return;
    open.delete(key);
    if (openByNode.get(node.id) === event.requestId) openByNode.delete(node.id);
    const content = promptText(event, prompt.chat.platform.limits.dialect);
    background.run(
      'permission decision',
      (async () => {
        const messageId = await prompt.message;
        if (messageId === null) return;
        await prompt.chat.outbox.edit(prompt.chat.chatId, messageId, { ...content, buttons: [] });
      })(),
    );
  };

  const unsubscribe = engine.subscribe((node, event) => {
    if (event.type !== 'permission') return;
    if (event.status === 'pending') opened(node, event);
    else ended(node, event);
  });

  const answer = async (nodeId: string, requestId: string, decision: PermissionDecision): Promise<string> => {
    const ok = await engine.answerPermission(nodeId, requestId, decision);
    if (!ok) return 'This request is no longer open.';
    return decision === 'deny' ? 'Denied.' : decision === 'always' ? 'Allowed for this session.' : 'Allowed.';
  };

  return {
    async press(data) {
      const parsed = parseButtonData(data);
      if (!parsed) return null;
      return answer(parsed.nodeId, parsed.requestId, parsed.decision);
    },

    async answerByReply(chat, replyToMessageId, decision) {
      const node = engine.findNodeByMessage(refOf(chat, replyToMessageId));
      const requestId = node ? openByNode.get(node.id) : undefined;
      if (!node || requestId === undefined) {
        return 'Nothing is waiting for permission there: reply to the 🔐 message of a running task.';
      }
      return answer(node.id, requestId, decision);
    },

    close() {
      unsubscribe();
    },
  };
}
