import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { NodeSnapshot } from '../../sessions/index.js';
import type { IncomingFile, IncomingHandler, MessagingPlatform } from '../platform.js';
import type { ConversationsView } from '../platform-module.js';
import type { WebConfig } from './config.js';
import { escapeHtml, webHtml } from './dialect.js';
import { type ConsoleHttp, createConsoleHttp } from './http.js';
import { WEB_MAX_LENGTH } from './limits.js';
import { createMessageLog, type LoggedChange, type WebFile, type WebMessage } from './message-log.js';
import type { Posted, PostedFile } from './posted.js';
import { createWebTransport } from './transport.js';
import { nodeDetail } from './tree-view.js';

// The web console as a chat platform: one chat ("console") that every open page shares. What the controller
// sends lands in the message log, and each change goes out to the pages that follow it; what a page posts
// becomes an Incoming like a chat message. The HTTP side lives in http.ts, the sending side in transport.ts.

export const WEB_CHAT_ID = 'console';
/** One person's console: the user id every incoming message carries. */
const WEB_USER_ID = 'console';
/** Changes kept for pages that reconnect; one further back reloads the whole state instead. */
const KEPT_CHANGES = 5000;

export interface WebPlatform extends MessagingPlatform {
  readonly http: ConsoleHttp;
}

export interface WebPlatformOptions {
  config: WebConfig;
  logger: Logger;
  /** The engine's conversations, for the tree panel (absent: the panel shows none). */
  conversations?: ConversationsView;
  /** Per attached file, as the controller's attachment limit (20 MB). */
  maxFileBytes?: number;
}

export function createWebPlatform(options: WebPlatformOptions): WebPlatform {
  const { logger } = options;
  const log = createMessageLog(randomBytes(4).toString('hex'), KEPT_CHANGES);
  const followers = new Set<(change: LoggedChange) => void>();
  let onIncoming: IncomingHandler | null = null;
  let sent = 0;
  let unsubscribe = (): void => {};

  const publish = (change: LoggedChange | null): void => {
    if (change === null) return;
    for (const follower of followers) follower(change);
  };
  // The run's id in every message id: the store keeps which node owns each message, so an id of an earlier run
  // must never be handed out again.
  const newId = (prefix: string): string => `${log.boot}-${prefix}${++sent}`;

  const receive = (posted: Posted): { messageId: string } => {
    if (onIncoming === null) throw new Error('the console is not started');
    if (posted.kind === 'press') {
      onIncoming({
        ...base(posted.messageId, null),
        kind: 'button',
        data: posted.data,
        acknowledge: async (text) => publish(log.note({ kind: 'notice', text })),
      });
      return { messageId: posted.messageId };
    }
    const messageId = newId('u');
    const attached = posted.voice === null ? posted.files : [posted.voice];
    publish(
      log.put({
        id: messageId,
        author: 'user',
        replyTo: posted.replyTo,
        html: null,
        text: posted.text,
        buttons: [],
        files: attached.map((file): WebFile => ({ name: file.name, sizeBytes: file.data.byteLength })),
        at: Date.now(),
      }),
    );
    const incoming = base(messageId, posted.replyTo);
    if (posted.voice !== null) onIncoming({ ...incoming, kind: 'audio', audio: incomingFile(posted.voice) });
    else if (posted.files.length > 0)
      onIncoming({ ...incoming, kind: 'files', text: posted.text, files: posted.files.map(incomingFile) });
    else onIncoming({ ...incoming, kind: 'text', text: posted.text });
    return { messageId };
  };

  const http = createConsoleHttp({
    authToken: options.config.authToken,
    log,
    follow(follower) {
      followers.add(follower);
      return () => followers.delete(follower);
    },
    receive,
    conversations: () => options.conversations?.list() ?? [],
    maxFileBytes: options.maxFileBytes ?? 20 * 1024 * 1024,
    logger,
  });

  return {
    name: 'web',
    limits: { dialect: webHtml, maxLength: WEB_MAX_LENGTH },
    // Edits still coalesce (the outbox keeps only the newest of a message's waiting edits): ten a second is live
    // to the eye and keeps a page with many running tasks light.
    rate: { count: 10, windowMs: 1000 },
    http,
    isAllowed: () => true,
    botName: () => null,
    async sendTyping() {},

    ...createWebTransport(log, publish, () => newId('r')),

    async start(handler) {
      onIncoming = handler;
      for (const message of restoredMessages(options.conversations?.list() ?? [])) log.put(message);
      // State changes and outcomes redraw the tree; the rest of a run's progress shows in its status message.
      unsubscribe =
        options.conversations?.subscribe((node: NodeSnapshot, event) => {
          if (event.type === 'state' || event.type === 'outcome')
            publish(log.note({ kind: 'node', nodeId: node.id }));
        }) ?? (() => {});
      logger.info('web console ready');
    },

    async stop() {
      onIncoming = null;
      unsubscribe();
      http.close();
    },
  };
}

/**
 * The console's tasks of earlier runs, from the store: each prompt and its answer under the ids the store links
 * to the node, so a reply to them still forks it. (Only what the store keeps: the prompt and the outcome.)
 */
function restoredMessages(nodes: readonly NodeSnapshot[]): WebMessage[] {
  const restored: WebMessage[] = [];
  const replyAnchor = new Map<string, string>();
  for (const node of [...nodes].sort((a, b) => a.createdAt - b.createdAt)) {
    const web = node.messages.filter((message) => message.ref.platform === 'web');
    const prompt = web.find((message) => message.role === 'prompt');
    if (prompt === undefined) continue;
    const answer =
      web.find((message) => message.role === 'status') ?? web.find((m) => m.role === 'continuation');
    const parentAnchor = node.parentId === null ? null : (replyAnchor.get(node.parentId) ?? null);
    restored.push({
      id: prompt.ref.messageId,
      author: 'user',
      replyTo: parentAnchor,
      html: null,
      text: node.prompt,
      buttons: [],
      files: [],
      at: node.createdAt,
    });
    replyAnchor.set(node.id, prompt.ref.messageId);
    if (answer === undefined) continue;
    const detail = nodeDetail(node);
    restored.push({
      id: answer.ref.messageId,
      author: 'relay',
      replyTo: prompt.ref.messageId,
      html: detail.answerHtml ?? escapeHtml(`${node.state}…`),
      text: '',
      buttons: [],
      files: [],
      at: node.finishedAt ?? node.createdAt,
    });
    replyAnchor.set(node.id, answer.ref.messageId);
  }
  return restored;
}

function base(messageId: string, replyTo: string | null) {
  return {
    platform: 'web',
    chatId: WEB_CHAT_ID,
    messageId,
    userId: WEB_USER_ID,
    replyToMessageId: replyTo,
  };
}

function incomingFile(file: PostedFile): IncomingFile {
  return {
    fileName: file.name,
    mimeType: file.type,
    sizeBytes: file.data.byteLength,
    download: async () => file.data,
  };
}
