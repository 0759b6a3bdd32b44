import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseTelegramHtml } from './telegram-html.js';

// A purpose-built fake of the Telegram Bot API on 127.0.0.1:0: the methods the relay uses with the real
// shapes and error texts, real long polling, getFile + download, scriptable failures, and a test-side client
// that plays the user and reads what the bot did (every message with its whole edit history).

export const TELEGRAM_MAX_LENGTH = 4096;
const BOT_USER = { id: 777000, is_bot: true, first_name: 'Relay', username: 'relay_test_bot' };

export interface ApiCall {
  method: string;
  payload: Record<string, unknown>;
  /** performance.now() when the request arrived (benchmarks measure latency to it). */
  at: number;
}

export interface BotMessage {
  chatId: number;
  messageId: number;
  /** Every text the message had, oldest first; the last one is what the user sees. */
  history: string[];
  parseModes: Array<string | null>;
  replyTo: number | null;
  /** The forum topic it was sent to (`message_thread_id`), or null. */
  threadId: number | null;
  deleted: boolean;
  /** The inline keyboard now under the message (flattened rows); an edit without reply_markup removes it. */
  buttons: InlineButton[];
  /** A document sent with the message (sendDocument); `history` then holds its caption. */
  document?: { name: string; data: Uint8Array };
}

export interface InlineButton {
  text: string;
  callbackData: string;
}

export interface CallbackAnswer {
  queryId: string;
  text: string | null;
  showAlert: boolean;
}

export interface UserMessageInput {
  userId: number;
  /** Defaults to the user's private chat (chat id = user id). */
  chatId?: number;
  text?: string;
  caption?: string;
  replyTo?: number;
  voice?: { data: Uint8Array; mimeType?: string; duration?: number; declaredSize?: number };
  audio?: { data: Uint8Array; mimeType?: string; fileName?: string; declaredSize?: number };
  /** `mimeType`/`fileName` left out are absent from the message, as Telegram does for some clients. */
  document?: { data: Uint8Array; mimeType?: string; fileName?: string; declaredSize?: number };
  /**
   * A photo as Telegram sends it: one entry per size (smallest first), each its own file. The bytes are the
   * test's; `width`/`height` only label them.
   */
  photo?: Array<{ data: Uint8Array; width: number; height: number; declaredSize?: number }>;
  /** Marks the message as one part of an album (Telegram's `media_group_id`). */
  mediaGroupId?: string;
  /** Written in this forum topic of the (supergroup) chat: as Telegram does, it "replies" to the topic's root. */
  threadId?: number;
}

export interface ScriptedFailure {
  errorCode: number;
  description: string;
  retryAfter?: number;
}

export interface FakeTelegram {
  /** The Bot API root to give grammy (`apiRoot`), without a trailing slash. */
  readonly apiRoot: string;
  readonly token: string;
  readonly calls: ApiCall[];
  sendUserMessage(input: UserMessageInput): { messageId: number; chatId: number };
  botMessages(chatId?: number): BotMessage[];
  /** The next `count` calls of `method` fail with this error (a 429 gets `parameters.retry_after`). */
  failNext(method: string, failure: ScriptedFailure, count?: number): void;
  callsOf(method: string): ApiCall[];
  setCommandsDirectly(commands: Array<{ command: string; description: string }>): void;
  /** While on, every text sent with a parse_mode is refused with "can't parse entities". */
  rejectParseMode(on: boolean): void;
  /** Scripted failures not yet used. */
  failuresLeft(): number;
  /** Until `end()`, every call of these methods fails this way; `hits()` counts the refused calls. */
  storm(methods: readonly string[], failure: ScriptedFailure): Storm;
  /**
   * The user taps an inline button of a bot message: a `callback_query` update, as a client sends it only for
   * a button the message shows now (otherwise this throws, as there would be nothing to tap).
   */
  pressButton(input: { userId: number; chatId?: number; messageId: number; callbackData: string }): {
    queryId: string;
  };
  /** Every answerCallbackQuery the bot made, in order. */
  callbackAnswers(): CallbackAnswer[];
  /** The user deletes one of the bot's messages (Telegram lets them in a private chat). */
  deleteByUser(chatId: number, messageId: number): void;
  /** The server goes away (connections refused) until `comeBack()`, which listens on the same port again. */
  goOffline(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

export interface Storm {
  end(): void;
  hits(): number;
}

interface StoredMessage {
  message_id: number;
  date: number;
  chat: { id: number; type: string; is_forum?: boolean };
  from: Record<string, unknown>;
  text?: string;
  [key: string]: unknown;
}

class ApiFailure extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly retryAfter?: number,
  ) {
    super(description);
  }
}

export async function startFakeTelegram(options: { token?: string } = {}): Promise<FakeTelegram> {
  const token = options.token ?? `123456:${randomUUID().replaceAll('-', '')}`;
  const calls: ApiCall[] = [];
  const updates: Array<{ update_id: number; message?: StoredMessage; callback_query?: unknown }> = [];
  /** Callback queries not answered yet (Telegram refuses a second answer or an unknown id). */
  const openQueries = new Set<string>();
  const answers: CallbackAnswer[] = [];
  let nextUpdateId = 1;
  const messageCounters = new Map<number, number>();
  const messages = new Map<string, StoredMessage>();
  const botMessages: BotMessage[] = [];
  const files = new Map<string, { path: string; data: Uint8Array }>();
  const failures = new Map<string, ScriptedFailure[]>();
  const waiters = new Set<() => void>();
  let commands: Array<{ command: string; description: string }> = [];
  let refuseParseMode = false;
  const storms = new Set<{ methods: ReadonlySet<string>; failure: ScriptedFailure; hits: number }>();

  const nextMessageId = (chatId: number): number => {
    const id = (messageCounters.get(chatId) ?? 0) + 1;
    messageCounters.set(chatId, id);
    return id;
  };
  const now = (): number => Math.floor(Date.now() / 1000);
  const key = (chatId: unknown, messageId: unknown): string => `${String(chatId)}:${String(messageId)}`;

  const wakePollers = (): void => {
    for (const wake of [...waiters]) wake();
  };

  const addFile = (
    data: Uint8Array,
    folder: string,
    extension: string,
  ): { file_id: string; path: string } => {
    const fileId = `file-${randomUUID()}`;
    const path = `${folder}/${fileId}.${extension}`;
    files.set(fileId, { path, data });
    return { file_id: fileId, path };
  };

  const methods: Record<string, (payload: Record<string, unknown>) => unknown> = {
    getMe: () => BOT_USER,
    deleteWebhook: () => true,
    getMyCommands: () => commands,
    setMyCommands: (payload) => {
      commands = parseCommands(payload.commands);
      return true;
    },
    sendChatAction: (payload) => {
      requireChat(payload);
      return true;
    },
    sendDocument: (payload) => {
      // Uploaded as a part of its own that the field names (`attach://<part>`), or as the field itself.
      const field = payload.document;
      const document =
        typeof field === 'string' && field.startsWith('attach://') ? payload[field.slice(9)] : field;
      if (!(document instanceof UploadedFile)) {
        throw new ApiFailure(400, 'Bad Request: there is no document in the request');
      }
      const sent = methods.sendMessage!({ ...payload, text: payload.caption ?? document.name });
      const bot = botMessages.at(-1);
      if (bot !== undefined) bot.document = { name: document.name, data: document.data };
      return sent;
    },
    sendMessage: (payload) => {
      const chatId = requireChat(payload);
      const text = checkText(payload);
      const replyParameters = payload.reply_parameters;
      const replyTo =
        typeof replyParameters === 'object' && replyParameters !== null && 'message_id' in replyParameters
          ? Number(replyParameters.message_id)
          : typeof payload.reply_to_message_id === 'number'
            ? payload.reply_to_message_id
            : null;
      const messageId = nextMessageId(chatId);
      const stored: StoredMessage = {
        message_id: messageId,
        date: now(),
        chat: { id: chatId, type: chatId > 0 ? 'private' : 'group' },
        from: BOT_USER,
        text,
      };
      messages.set(key(chatId, messageId), stored);
      botMessages.push({
        chatId,
        messageId,
        history: [text],
        parseModes: [parseModeOf(payload)],
        replyTo,
        threadId: typeof payload.message_thread_id === 'number' ? payload.message_thread_id : null,
        deleted: false,
        buttons: buttonsOf(payload.reply_markup),
      });
      if (stored.text !== undefined && payload.reply_markup !== undefined) {
        stored.reply_markup = parseMarkup(payload.reply_markup);
      }
      return stored;
    },
    editMessageText: (payload) => {
      const chatId = requireChat(payload);
      const text = checkText(payload);
      const bot = botMessages.find((m) => m.chatId === chatId && m.messageId === Number(payload.message_id));
      if (!bot || bot.deleted) throw new ApiFailure(400, 'Bad Request: message to edit not found');
      const buttons = buttonsOf(payload.reply_markup);
      if (
        bot.history.at(-1) === text &&
        bot.parseModes.at(-1) === parseModeOf(payload) &&
        JSON.stringify(bot.buttons) === JSON.stringify(buttons)
      ) {
        throw new ApiFailure(
          400,
          'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
        );
      }
      bot.history.push(text);
      bot.parseModes.push(parseModeOf(payload));
      bot.buttons = buttons;
      const stored = messages.get(key(chatId, bot.messageId))!;
      stored.text = text;
      stored.edit_date = now();
      return stored;
    },
    deleteMessage: (payload) => {
      const chatId = requireChat(payload);
      const bot = botMessages.find((m) => m.chatId === chatId && m.messageId === Number(payload.message_id));
      if (!bot || bot.deleted) throw new ApiFailure(400, 'Bad Request: message to delete not found');
      bot.deleted = true;
      return true;
    },
    editMessageReplyMarkup: (payload) => {
      const chatId = requireChat(payload);
      const bot = botMessages.find((m) => m.chatId === chatId && m.messageId === Number(payload.message_id));
      if (!bot || bot.deleted) throw new ApiFailure(400, 'Bad Request: message to edit not found');
      const buttons = buttonsOf(payload.reply_markup);
      if (JSON.stringify(bot.buttons) === JSON.stringify(buttons)) {
        throw new ApiFailure(400, 'Bad Request: message is not modified');
      }
      bot.buttons = buttons;
      return messages.get(key(chatId, bot.messageId)) ?? true;
    },
    answerCallbackQuery: (payload) => {
      const queryId = String(payload.callback_query_id ?? '');
      if (!openQueries.delete(queryId)) {
        throw new ApiFailure(
          400,
          'Bad Request: query is too old and response timeout expired or query ID is invalid',
        );
      }
      answers.push({
        queryId,
        text: typeof payload.text === 'string' ? payload.text : null,
        showAlert: payload.show_alert === true || payload.show_alert === 'true',
      });
      return true;
    },
    getFile: (payload) => {
      const fileId = String(payload.file_id);
      const file = files.get(fileId);
      if (!file) throw new ApiFailure(400, 'Bad Request: invalid file_id');
      return {
        file_id: fileId,
        file_unique_id: fileId,
        file_size: file.data.byteLength,
        file_path: file.path,
      };
    },
  };

  const handleGetUpdates = async (
    payload: Record<string, unknown>,
    request: IncomingMessage,
  ): Promise<unknown> => {
    const offset = typeof payload.offset === 'number' ? payload.offset : 0;
    // Confirming an offset forgets every earlier update, as the real server does.
    while (updates.length > 0 && updates[0]!.update_id < offset) updates.shift();
    const timeoutSeconds = typeof payload.timeout === 'number' ? payload.timeout : 0;
    const limit = typeof payload.limit === 'number' ? payload.limit : 100;
    if (updates.length === 0 && timeoutSeconds > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(done);
          request.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, timeoutSeconds * 1000);
        waiters.add(done);
        request.once('close', done);
      });
    }
    return updates.slice(0, limit);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      reply(response, 500, { ok: false, error_code: 500, description: `fake failure: ${String(error)}` });
    });
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (fileMatch) {
      const file = [...files.values()].find((candidate) => candidate.path === fileMatch[2]);
      if (fileMatch[1] !== token || !file) {
        reply(response, 404, { ok: false, error_code: 404, description: 'Not Found' });
        return;
      }
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.from(file.data));
      return;
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) {
      reply(response, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    if (match[1] !== token) {
      reply(response, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    const method = match[2]!;
    const payload = await readPayload(request, url);
    calls.push({ method, payload, at: performance.now() });
    if (refuseParseMode && typeof payload.parse_mode === 'string') {
      reply(response, 400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0',
      });
      return;
    }
    const storm = [...storms].find((candidate) => candidate.methods.has(method));
    if (storm) storm.hits += 1;
    const scripted = storm?.failure ?? failures.get(method)?.shift();
    if (scripted) {
      reply(response, scripted.errorCode, {
        ok: false,
        error_code: scripted.errorCode,
        description: scripted.description,
        ...(scripted.retryAfter !== undefined ? { parameters: { retry_after: scripted.retryAfter } } : {}),
      });
      return;
    }
    try {
      const result =
        method === 'getUpdates'
          ? await handleGetUpdates(payload, request)
          : methods[method]
            ? methods[method](payload)
            : undefined;
      if (result === undefined) {
        reply(response, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
        return;
      }
      if (!response.destroyed) reply(response, 200, { ok: true, result });
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      reply(response, error.errorCode, {
        ok: false,
        error_code: error.errorCode,
        description: error.description,
      });
    }
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    calls,
    sendUserMessage(input) {
      const chatId = input.chatId ?? input.userId;
      const messageId = nextMessageId(chatId);
      const message: StoredMessage = {
        message_id: messageId,
        date: now(),
        chat:
          input.threadId === undefined
            ? { id: chatId, type: chatId > 0 ? 'private' : 'group' }
            : { id: chatId, type: 'supergroup', is_forum: true },
        from: { id: input.userId, is_bot: false, first_name: `User ${input.userId}` },
      };
      if (input.threadId !== undefined) {
        message.message_thread_id = input.threadId;
        message.is_topic_message = true;
        if (input.replyTo === undefined) {
          message.reply_to_message = {
            message_id: input.threadId,
            date: now(),
            chat: message.chat,
            forum_topic_created: { name: `Topic ${input.threadId}`, icon_color: 0 },
          };
        }
      }
      if (input.text !== undefined) message.text = input.text;
      if (input.caption !== undefined) message.caption = input.caption;
      if (input.mediaGroupId !== undefined) message.media_group_id = input.mediaGroupId;
      if (input.replyTo !== undefined) {
        const target = messages.get(key(chatId, input.replyTo));
        message.reply_to_message = target ?? {
          message_id: input.replyTo,
          date: now(),
          chat: message.chat,
        };
      }
      if (input.voice) {
        const file = addFile(input.voice.data, 'voice', 'oga');
        message.voice = {
          file_id: file.file_id,
          file_unique_id: file.file_id,
          duration: input.voice.duration ?? 1,
          mime_type: input.voice.mimeType ?? 'audio/ogg',
          file_size: input.voice.declaredSize ?? input.voice.data.byteLength,
        };
      }
      if (input.audio) {
        const file = addFile(input.audio.data, 'music', 'mp3');
        message.audio = {
          file_id: file.file_id,
          file_unique_id: file.file_id,
          duration: 1,
          mime_type: input.audio.mimeType ?? 'audio/mpeg',
          file_name: input.audio.fileName ?? 'audio.mp3',
          file_size: input.audio.declaredSize ?? input.audio.data.byteLength,
        };
      }
      if (input.document) {
        const file = addFile(input.document.data, 'documents', 'bin');
        message.document = {
          file_id: file.file_id,
          file_unique_id: file.file_id,
          ...(input.document.mimeType === undefined ? {} : { mime_type: input.document.mimeType }),
          ...(input.document.fileName === undefined ? {} : { file_name: input.document.fileName }),
          file_size: input.document.declaredSize ?? input.document.data.byteLength,
        };
      }
      if (input.photo) {
        message.photo = input.photo.map((size) => {
          const file = addFile(size.data, 'photos', 'jpg');
          return {
            file_id: file.file_id,
            file_unique_id: file.file_id,
            width: size.width,
            height: size.height,
            file_size: size.declaredSize ?? size.data.byteLength,
          };
        });
      }
      messages.set(key(chatId, messageId), message);
      updates.push({ update_id: nextUpdateId++, message });
      wakePollers();
      return { messageId, chatId };
    },
    botMessages(chatId) {
      return botMessages.filter((message) => chatId === undefined || message.chatId === chatId);
    },
    pressButton(input) {
      const chatId = input.chatId ?? input.userId;
      const bot = botMessages.find((m) => m.chatId === chatId && m.messageId === input.messageId);
      if (!bot || bot.deleted || !bot.buttons.some((button) => button.callbackData === input.callbackData)) {
        throw new Error(`message ${input.messageId} shows no button ${input.callbackData}`);
      }
      const queryId = randomUUID();
      openQueries.add(queryId);
      updates.push({
        update_id: nextUpdateId++,
        callback_query: {
          id: queryId,
          from: { id: input.userId, is_bot: false, first_name: `User ${input.userId}` },
          message: { ...messages.get(key(chatId, input.messageId)), text: bot.history.at(-1) },
          chat_instance: String(chatId),
          data: input.callbackData,
        },
      });
      wakePollers();
      return { queryId };
    },
    callbackAnswers() {
      return [...answers];
    },
    failNext(method, failure, count = 1) {
      const list = failures.get(method) ?? [];
      for (let i = 0; i < count; i++) list.push(failure);
      failures.set(method, list);
    },
    callsOf(method) {
      return calls.filter((call) => call.method === method);
    },
    setCommandsDirectly(list) {
      commands = list;
    },
    failuresLeft() {
      return [...failures.values()].reduce((sum, list) => sum + list.length, 0);
    },
    rejectParseMode(on) {
      refuseParseMode = on;
    },
    storm(list, failure) {
      const storm = { methods: new Set(list), failure, hits: 0 };
      storms.add(storm);
      return { end: () => storms.delete(storm), hits: () => storm.hits };
    },
    deleteByUser(chatId, messageId) {
      const bot = botMessages.find((m) => m.chatId === chatId && m.messageId === messageId);
      if (bot) bot.deleted = true;
    },
    async goOffline() {
      wakePollers();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async comeBack() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      wakePollers();
      server.closeAllConnections();
      if (!server.listening) return;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** A file uploaded with a multipart request (sendDocument). */
class UploadedFile {
  constructor(
    readonly name: string,
    readonly data: Uint8Array,
  ) {}
}

/**
 * The parts of a multipart/form-data body. Written out rather than `Response.formData()`, which refuses the
 * headers grammY writes (`content-disposition:form-data;name="x"`, no spaces), as the real Bot API accepts them.
 */
function multipartParts(
  raw: Buffer,
  boundaryMatch: RegExpExecArray | null,
): Array<{ name: string; fileName: string | null; data: Uint8Array }> {
  const boundary = boundaryMatch?.[1] ?? boundaryMatch?.[2]?.trim();
  if (boundary === undefined) throw new ApiFailure(400, 'Bad Request: multipart body without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ name: string; fileName: string | null; data: Uint8Array }> = [];
  let start = raw.indexOf(delimiter);
  while (start >= 0) {
    const headerStart = start + delimiter.length + 2; // past the delimiter's CRLF
    const next = raw.indexOf(delimiter, headerStart);
    if (next < 0) break;
    const headerEnd = raw.indexOf('\r\n\r\n', headerStart);
    const headers = raw.subarray(headerStart, headerEnd).toString('utf8');
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    if (name !== undefined) {
      const fileName =
        /filename=(?:"([^"]*)"|([^;\r\n]+))/i
          .exec(headers)
          ?.slice(1)
          .find((v) => v !== undefined) ?? null;
      // The part's body ends with the CRLF that precedes the next delimiter.
      parts.push({ name, fileName, data: new Uint8Array(raw.subarray(headerEnd + 4, next - 2)) });
    }
    start = next;
  }
  return parts;
}

async function readPayload(request: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const body = raw.toString('utf8');
  const payload: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (body === '') return payload;
  const type = request.headers['content-type'] ?? '';
  if (type.includes('multipart/form-data')) {
    // The Bot API's upload form: plain fields hold strings (JSON for objects), files arrive as parts.
    for (const part of multipartParts(raw, /boundary=(?:"([^"]+)"|([^;]+))/.exec(type))) {
      if (part.fileName !== null) payload[part.name] = new UploadedFile(part.fileName, part.data);
      else {
        const value = Buffer.from(part.data).toString('utf8');
        payload[part.name] = /^[[{]/.test(value) ? JSON.parse(value) : value;
      }
    }
  } else if (type.includes('application/json')) {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) Object.assign(payload, parsed);
  } else {
    Object.assign(payload, Object.fromEntries(new URLSearchParams(body)));
  }
  return payload;
}

function requireChat(payload: Record<string, unknown>): number {
  const chatId = Number(payload.chat_id);
  if (!Number.isFinite(chatId)) throw new ApiFailure(400, 'Bad Request: chat not found');
  return chatId;
}

function parseModeOf(payload: Record<string, unknown>): string | null {
  return typeof payload.parse_mode === 'string' ? payload.parse_mode : null;
}

function checkText(payload: Record<string, unknown>): string {
  const text = typeof payload.text === 'string' ? payload.text : '';
  let visible = text;
  if (parseModeOf(payload) === 'HTML') {
    const parsed = parseTelegramHtml(text);
    if (!parsed.ok) throw new ApiFailure(400, `Bad Request: can't parse entities: ${parsed.error}`);
    visible = parsed.visible;
  }
  if (visible.trim() === '') throw new ApiFailure(400, 'Bad Request: message text is empty');
  if ([...visible].length > TELEGRAM_MAX_LENGTH)
    throw new ApiFailure(400, 'Bad Request: message is too long');
  return text;
}

function parseCommands(value: unknown): Array<{ command: string; description: string }> {
  const list: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(list)) throw new ApiFailure(400, 'Bad Request: commands must be an array');
  return list.map((item: unknown) => {
    if (typeof item !== 'object' || item === null || !('command' in item) || !('description' in item)) {
      throw new ApiFailure(400, 'Bad Request: bad command');
    }
    return { command: String(item.command), description: String(item.description) };
  });
}

function parseMarkup(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** The inline keyboard of a reply_markup (object or JSON string), flattened; anything else is no buttons. */
function buttonsOf(value: unknown): InlineButton[] {
  const markup = parseMarkup(value);
  if (typeof markup !== 'object' || markup === null || !('inline_keyboard' in markup)) return [];
  const rows = markup.inline_keyboard;
  if (!Array.isArray(rows)) throw new ApiFailure(400, 'Bad Request: inline keyboard must be an array');
  return rows.flat().map((button: unknown) => {
    const text = typeof button === 'object' && button !== null && 'text' in button ? button.text : undefined;
    const data =
      typeof button === 'object' && button !== null && 'callback_data' in button
        ? button.callback_data
        : undefined;
    if (typeof text !== 'string' || typeof data !== 'string') {
      throw new ApiFailure(400, "Bad Request: can't parse inline keyboard button");
    }
    if (Buffer.byteLength(data) > 64) throw new ApiFailure(400, 'Bad Request: BUTTON_DATA_INVALID');
    return { text, callbackData: data };
  });
}
