import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

// A fake Discord (REST v10 + gateway over ws) on 127.0.0.1:0: enough of both for discord.js 14 to log in, see a
// guild with text channels, receive messages and slash commands, and send, edit and delete messages. Tests
// play users through the returned client and read what the bot did, with every message's edit history.

export const DISCORD_MAX_LENGTH = 2000;
export const VOICE_MESSAGE_FLAG = 8192;
const GUILD_ID = '900000000000000001';
const APPLICATION_ID = '900000000000000002';
const BOT_USER = {
  id: APPLICATION_ID,
  username: 'relay',
  discriminator: '0',
  global_name: 'Relay',
  bot: true,
};

export interface ApiCall {
  method: string;
  path: string;
  body: unknown;
}

export interface DiscordBotMessage {
  channelId: string;
  messageId: string;
  history: string[];
  replyTo: string | null;
  deleted: boolean;
  /** Set when the message is an interaction's response or follow-up. */
  interactionId: string | null;
  /** The buttons now under the message (action rows flattened). */
  buttons: DiscordButton[];
  /** An ephemeral interaction response or follow-up (flags 64): only the presser sees it. */
  ephemeral: boolean;
  /** Files sent with the message (a multipart create). */
  files?: Array<{ name: string; data: Uint8Array }>;
}

export interface DiscordButton {
  customId: string;
  label: string;
  style: number;
}

export interface InteractionCallback {
  interactionId: string;
  /** 4 message, 5 deferred message, 6 deferred update, 7 update message. */
  type: number;
  ephemeral: boolean;
}

export interface UserPost {
  channelId: string;
  userId: string;
  content?: string;
  replyTo?: string;
  voice?: { data: Uint8Array; declaredSize?: number };
  attachment?: { data: Uint8Array; contentType: string; fileName: string; declaredSize?: number };
  /** More attachments on the same message (after `attachment`); `contentType: null` leaves it out. */
  attachments?: Array<{
    data: Uint8Array;
    contentType: string | null;
    fileName: string;
    declaredSize?: number;
  }>;
}

export interface ScriptedFailure {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface FakeDiscord {
  /** What discord.js takes as `rest.api` (it appends `/v10`). */
  readonly apiBase: string;
  readonly applicationId: string;
  readonly calls: ApiCall[];
  postUserMessage(post: UserPost): { messageId: string };
  /** Dispatches a slash command; the interaction's id identifies its responses in `botMessages()`. */
  runSlashCommand(input: { channelId: string; userId: string; name: string }): { interactionId: string };
  botMessages(channelId?: string): DiscordBotMessage[];
  /**
   * The user presses a button of a bot message: an INTERACTION_CREATE of type 3 (message component), only for a
   * button the message shows now (otherwise this throws, as there would be nothing to press).
   */
  pressButton(input: { channelId: string; userId: string; messageId: string; customId: string }): {
    interactionId: string;
  };
  /** Every interaction callback the bot made, in order. */
  interactionCallbacks(): InteractionCallback[];
  /** The next `count` requests whose "METHOD path" matches fail this way. */
  failNext(route: RegExp, failure: ScriptedFailure, count?: number): void;
  /** A 429 with `retry_after` in the body and the headers discord.js reads. */
  rateLimit(route: RegExp, retryAfterSeconds: number, count?: number): void;
  callsMatching(route: RegExp): ApiCall[];
  commandWrites(): number;
  /** Scripted failures not yet used. */
  failuresLeft(): number;
  /** While set, message content matching this is refused as an invalid form body (code 50035). */
  rejectContent(pattern: RegExp | null): void;
  setCommandsDirectly(commands: Array<{ name: string; description: string }>): void;
  /** Until `end()`, every request whose "METHOD path" matches fails this way; `hits()` counts them. */
  storm(route: RegExp, failure: ScriptedFailure): Storm;
  /** A 429 with the body and headers discord.js reads, for `storm` and `failNext`. */
  rateLimitFailure(retryAfterSeconds: number): ScriptedFailure;
  /** The user (a moderator) deletes one of the bot's messages. */
  deleteByUser(channelId: string, messageId: string): void;
  /** Closes every gateway connection with this close code, as Discord does when it drops a bot for good. */
  closeGateway(code: number, reason: string): void;
  /** REST and gateway go away (connections refused) until `comeBack()` listens on the same port again. */
  goOffline(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

export interface Storm {
  end(): void;
  hits(): number;
}

/** The guild, channel and member fields every interaction carries. */
function interactionContext(
  channelId: string,
  userId: string,
  token: string,
  parentId: string | null = null,
) {
  return {
    guild_id: GUILD_ID,
    channel_id: channelId,
    channel:
      parentId === null
        ? { id: channelId, type: 0, guild_id: GUILD_ID, name: 'channel' }
        : { id: channelId, type: 11, guild_id: GUILD_ID, parent_id: parentId, name: `thread-${channelId}` },
    member: {
      user: { id: userId, username: `user${userId}`, discriminator: '0', global_name: null },
      roles: [],
      permissions: '0',
      joined_at: new Date().toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
    },
    token,
    version: 1,
    app_permissions: '0',
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { '0': GUILD_ID },
    context: 0,
  };
}

export async function startFakeDiscord(options: {
  channelIds: string[];
  /** Threads (type 11) of those channels, known from the guild's start. */
  threads?: Array<{ id: string; parentId: string }>;
  /** Direct-message channels, each with the one user the bot talks to there. */
  dmChannels?: Array<{ id: string; userId: string }>;
  /** When given, any other bot token is refused with 401, as Discord refuses a reset or mistyped one. */
  token?: string;
  /** Closes the gateway on IDENTIFY with 4014, as Discord does when the Message Content intent is off. */
  refuseIntents?: boolean;
}): Promise<FakeDiscord> {
  const calls: ApiCall[] = [];
  const botMessages: DiscordBotMessage[] = [];
  const messages = new Map<string, Record<string, unknown>>();
  const attachments = new Map<string, Uint8Array>();
  const failures: Array<{ route: RegExp; failure: ScriptedFailure }> = [];
  const sockets = new Set<WebSocket>();
  const interactionChannels = new Map<string, { id: string; channelId: string; messageId?: string }>();
  const callbacks: InteractionCallback[] = [];
  let commands: Array<Record<string, unknown>> = [];
  let commandWrites = 0;
  let refusedContent: RegExp | null = null;
  const storms = new Set<{ route: RegExp; failure: ScriptedFailure; hits: number }>();
  let sequence = 0;
  let snowflake = 1_000_000_000_000_000n;
  const nextId = (): string => {
    snowflake += 1n;
    return snowflake.toString();
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 500, { message: `fake failure: ${String(error)}`, code: 0 });
    });
  });
  const gateway = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    gateway.handleUpgrade(request, socket, head, (ws) => gateway.emit('connection', ws));
  });

  const threads = options.threads ?? [];
  const dmChannels = options.dmChannels ?? [];
  const isDm = (channelId: string): boolean => dmChannels.some((dm) => dm.id === channelId);
  const knownChannel = (channelId: string): boolean =>
    options.channelIds.includes(channelId) || threads.some((t) => t.id === channelId) || isDm(channelId);

  const dispatch = (type: string, data: unknown): void => {
    for (const ws of sockets) {
      if (ws.readyState === WebSocket.OPEN)
        ws.send(JSON.stringify({ op: 0, t: type, s: ++sequence, d: data }));
    }
  };

  gateway.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 45_000 }, s: null, t: null }));
    ws.on('message', (raw) => {
      const packet: unknown = JSON.parse(String(raw));
      if (typeof packet !== 'object' || packet === null || !('op' in packet)) return;
      if (packet.op === 1) ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
      // A resume after a dropped connection: this fake keeps no missed events, so it is simply resumed.
      if (packet.op === 6) ws.send(JSON.stringify({ op: 0, t: 'RESUMED', s: ++sequence, d: {} }));
      if (packet.op === 2 && options.refuseIntents) {
        ws.close(4014, 'Disallowed intent(s).');
        return;
      }
      if (packet.op === 2) {
        ws.send(
          JSON.stringify({
            op: 0,
            t: 'READY',
            s: ++sequence,
            d: {
              v: 10,
              user: BOT_USER,
              guilds: [{ id: GUILD_ID, unavailable: true }],
              session_id: randomUUID(),
              resume_gateway_url: `ws://127.0.0.1:${port}/gateway`,
              shard: [0, 1],
              application: { id: APPLICATION_ID, flags: 0 },
            },
          }),
        );
        ws.send(
          JSON.stringify({
            op: 0,
            t: 'GUILD_CREATE',
            s: ++sequence,
            d: {
              id: GUILD_ID,
              name: 'Fake guild',
              owner_id: '1',
              unavailable: false,
              member_count: 2,
              roles: [],
              emojis: [],
              stickers: [],
              members: [],
              voice_states: [],
              presences: [],
              threads: threads.map((thread) => ({
                id: thread.id,
                type: 11,
                guild_id: GUILD_ID,
                parent_id: thread.parentId,
                name: `thread-${thread.id}`,
                owner_id: '1',
                member_count: 1,
                message_count: 0,
                thread_metadata: {
                  archived: false,
                  auto_archive_duration: 1440,
                  archive_timestamp: new Date().toISOString(),
                  locked: false,
                },
              })),
              stage_instances: [],
              guild_scheduled_events: [],
              features: [],
              channels: options.channelIds.map((id, position) => ({
                id,
                type: 0,
                name: `channel-${position}`,
                guild_id: GUILD_ID,
                position,
                permission_overwrites: [],
              })),
            },
          }),
        );
      }
    });
  });

  const createBotMessage = (
    channelId: string,
    content: string,
    replyTo: string | null,
    interactionId: string | null,
    extra: { components?: unknown; ephemeral?: boolean } = {},
  ): Record<string, unknown> => {
    const id = nextId();
    const message = messageObject({
      id,
      channelId,
      author: BOT_USER,
      content,
      replyTo: replyTo ?? undefined,
    });
    const buttons = buttonsOf(extra.components);
    message.components = extra.components ?? [];
    messages.set(id, message);
    botMessages.push({
      channelId,
      messageId: id,
      history: [content],
      replyTo,
      deleted: false,
      interactionId,
      buttons,
      ephemeral: extra.ephemeral === true,
    });
    // Only the presser sees an ephemeral message: it is not in the channel for anyone's gateway.
    if (extra.ephemeral !== true) dispatch('MESSAGE_CREATE', message);
    return message;
  };

  /** `components` absent leaves the buttons as they are (as Discord does); `[]` removes them. */
  const editBotMessage = (
    id: string,
    content: string,
    components?: unknown,
  ): Record<string, unknown> | null => {
    const bot = botMessages.find((m) => m.messageId === id && !m.deleted);
    const message = messages.get(id);
    if (!bot || !message) return null;
    bot.history.push(content);
    if (components !== undefined) {
      bot.buttons = buttonsOf(components);
      message.components = components;
    }
    message.content = content;
    message.edited_timestamp = new Date().toISOString();
    dispatch('MESSAGE_UPDATE', message);
    return message;
  };

  const messageObject = (input: {
    id: string;
    channelId: string;
    author: Record<string, unknown>;
    content: string;
    replyTo?: string | undefined;
    flags?: number;
    attachments?: unknown[];
  }): Record<string, unknown> => ({
    id: input.id,
    channel_id: input.channelId,
    // As Discord does, the gateway's message names its channel's type (1: a DM; 11: a thread).
    ...(isDm(input.channelId)
      ? { channel_type: 1 }
      : { guild_id: GUILD_ID, channel_type: threads.some((t) => t.id === input.channelId) ? 11 : 0 }),
    author: input.author,
    content: input.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: input.attachments ?? [],
    embeds: [],
    pinned: false,
    type: input.replyTo ? 19 : 0,
    flags: input.flags ?? 0,
    ...(input.replyTo
      ? {
          message_reference: {
            type: 0,
            message_id: input.replyTo,
            channel_id: input.channelId,
            ...(isDm(input.channelId) ? {} : { guild_id: GUILD_ID }),
          },
          referenced_message: messages.get(input.replyTo) ?? null,
        }
      : {}),
  });

  const contentProblem = (body: unknown): ScriptedFailure | null => {
    const content = typeof body === 'object' && body !== null && 'content' in body ? body.content : undefined;
    if (typeof content !== 'string' || content.trim() === '') {
      return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
    }
    if ([...content].length > DISCORD_MAX_LENGTH || refusedContent?.test(content)) {
      return {
        status: 400,
        body: {
          message: 'Invalid Form Body',
          code: 50035,
          errors: {
            content: {
              _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }],
            },
          },
        },
      };
    }
    return null;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const text = raw.toString('utf8');
    const type = request.headers['content-type'] ?? '';
    let body: unknown = text && type.includes('json') ? JSON.parse(text) : null;
    /** Files of a multipart message create (`files[n]` parts beside `payload_json`). */
    const uploaded: Array<{ name: string; data: Uint8Array }> = [];
    if (type.includes('multipart/form-data')) {
      const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
      for (const [name, value] of form) {
        if (name === 'payload_json' && typeof value === 'string') body = JSON.parse(value);
        else if (typeof value !== 'string') {
          uploaded.push({ name: value.name, data: new Uint8Array(await value.arrayBuffer()) });
        }
      }
    }
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '');

    const attachment = /^\/attachments\/(\d+)\//.exec(url.pathname);
    if (method === 'GET' && attachment) {
      // The CDN is not the REST API (not recorded in `calls`), but scripted failures can break downloads too.
      const cdnKey = `GET ${url.pathname}`;
      const broken = failures.findIndex((entry) => entry.route.test(cdnKey));
      if (broken >= 0) {
        const { failure } = failures.splice(broken, 1)[0]!;
        return send(response, failure.status, failure.body, failure.headers);
      }
      const data = attachments.get(attachment[1]!);
      if (!data) return send(response, 404, { message: 'Unknown Attachment', code: 10000 });
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.from(data));
      return;
    }
    calls.push({ method, path, body });
    const routeKey = `${method} ${path}`;
    const storm = [...storms].find((candidate) => candidate.route.test(routeKey));
    if (storm) {
      storm.hits += 1;
      return send(response, storm.failure.status, storm.failure.body, storm.failure.headers);
    }
    const scriptedIndex = failures.findIndex((entry) => entry.route.test(routeKey));
    if (scriptedIndex >= 0) {
      const { failure } = failures.splice(scriptedIndex, 1)[0]!;
      return send(response, failure.status, failure.body, failure.headers);
    }
    const authorization = request.headers.authorization;
    if (
      authorization !== undefined &&
      (!authorization.startsWith('Bot ') ||
        (options.token !== undefined && authorization !== `Bot ${options.token}`))
    ) {
      return send(response, 401, { message: '401: Unauthorized', code: 0 });
    }

    if (method === 'GET' && path === '/gateway/bot') {
      return send(response, 200, {
        url: `ws://127.0.0.1:${port}/gateway`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
    }
    const m1 = /^\/channels\/(\d+)\/typing$/.exec(path);
    if (m1 && method === 'POST') {
      if (!knownChannel(m1[1]!)) return send(response, 404, unknownChannel);
      return noContent(response);
    }
    const m2 = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (m2 && method === 'POST') {
      if (!knownChannel(m2[1]!)) return send(response, 404, unknownChannel);
      const problem = contentProblem(body);
      if (problem) return send(response, problem.status, problem.body);
      const record = body as {
        content: string;
        message_reference?: { message_id?: string };
        components?: unknown;
      };
      const created = createBotMessage(
        m2[1]!,
        record.content,
        record.message_reference?.message_id ?? null,
        null,
        { components: record.components },
      );
      const bot = botMessages.at(-1);
      if (bot !== undefined && uploaded.length > 0) bot.files = uploaded;
      return send(response, 200, created);
    }
    const m3 = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path);
    if (m3) {
      const bot = botMessages.find((m) => m.messageId === m3[2] && m.channelId === m3[1] && !m.deleted);
      if (!bot) return send(response, 404, { message: 'Unknown Message', code: 10008 });
      if (method === 'DELETE') {
        bot.deleted = true;
        dispatch('MESSAGE_DELETE', { id: bot.messageId, channel_id: bot.channelId, guild_id: GUILD_ID });
        return noContent(response);
      }
      if (method === 'PATCH') {
        const problem = contentProblem(body);
        if (problem) return send(response, problem.status, problem.body);
        const edit = body as { content: string; components?: unknown };
        return send(response, 200, editBotMessage(bot.messageId, edit.content, edit.components));
      }
    }
    const m4 = /^\/applications\/(\d+)\/commands$/.exec(path);
    if (m4) {
      if (method === 'GET') return send(response, 200, commands);
      if (method === 'PUT' && Array.isArray(body)) {
        commandWrites += 1;
        commands = body.map((command: Record<string, unknown>) => ({
          id: nextId(),
          application_id: APPLICATION_ID,
          type: 1,
          version: nextId(),
          default_member_permissions: null,
          ...command,
        }));
        return send(response, 200, commands);
      }
    }
    const m5 = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    if (m5 && method === 'POST') {
      const interaction = interactionChannels.get(m5[2]!);
      if (!interaction) return send(response, 404, { message: 'Unknown interaction', code: 10062 });
      const callback = body as {
        type: number;
        data?: { content?: string; flags?: number; components?: unknown };
      };
      const ephemeral = ((callback.data?.flags ?? 0) & 64) !== 0;
      if (callbacks.some((entry) => entry.interactionId === interaction.id)) {
        return send(response, 400, { message: 'Interaction has already been acknowledged.', code: 40060 });
      }
      if ((callback.type === 6 || callback.type === 7) && interaction.messageId === undefined) {
        return send(response, 400, { message: 'Invalid interaction response type', code: 50035 });
      }
      callbacks.push({ interactionId: interaction.id, type: callback.type, ephemeral });
      if (callback.type === 4) {
        createBotMessage(interaction.channelId, callback.data?.content ?? '', null, interaction.id, {
          ephemeral,
        });
      } else if (callback.type === 5) {
        createBotMessage(interaction.channelId, '(thinking…)', null, interaction.id, { ephemeral });
      } else if (callback.type === 7 && interaction.messageId !== undefined) {
        const original = messages.get(interaction.messageId);
        editBotMessage(
          interaction.messageId,
          callback.data?.content ?? String(original?.content ?? ''),
          callback.data?.components,
        );
      }
      return noContent(response);
    }
    const m6 = /^\/webhooks\/(\d+)\/([^/]+)(\/messages\/@original)?$/.exec(path);
    if (m6) {
      const interaction = interactionChannels.get(m6[2]!);
      if (!interaction) return send(response, 404, { message: 'Unknown Webhook', code: 10015 });
      const problem = contentProblem(body);
      if (problem) return send(response, problem.status, problem.body);
      const content = (body as { content: string }).content;
      if (m6[3] && method === 'PATCH') {
        const original = botMessages.find((m) => m.interactionId === interaction.id);
        if (!original) return send(response, 404, { message: 'Unknown Message', code: 10008 });
        return send(response, 200, editBotMessage(original.messageId, content));
      }
      if (!m6[3] && method === 'POST') {
        const flags = (body as { flags?: number }).flags ?? 0;
        return send(
          response,
          200,
          createBotMessage(interaction.channelId, content, null, interaction.id, {
            ephemeral: (flags & 64) !== 0,
          }),
        );
      }
    }
    return send(response, 404, { message: '404: Not Found', code: 0 });
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    apiBase: `http://127.0.0.1:${port}/api`,
    applicationId: APPLICATION_ID,
    calls,
    postUserMessage(post) {
      const id = nextId();
      const author = {
        id: post.userId,
        username: `user${post.userId}`,
        discriminator: '0',
        global_name: null,
      };
      const files: unknown[] = [];
      const addAttachment = (
        data: Uint8Array,
        contentType: string | null,
        fileName: string,
        size?: number,
      ): void => {
        const attachmentId = nextId();
        attachments.set(attachmentId, data);
        // Discord's CDN escapes the name in the URL; the filename field keeps it as the sender gave it.
        const fileUrl = `http://127.0.0.1:${port}/attachments/${attachmentId}/${encodeURIComponent(fileName)}`;
        files.push({
          id: attachmentId,
          filename: fileName,
          size: size ?? data.byteLength,
          url: fileUrl,
          proxy_url: fileUrl,
          ...(contentType === null ? {} : { content_type: contentType }),
          ...(contentType === 'audio/ogg' ? { duration_secs: 1.5, waveform: 'AAAA' } : {}),
        });
      };
      if (post.voice)
        addAttachment(post.voice.data, 'audio/ogg', 'voice-message.ogg', post.voice.declaredSize);
      if (post.attachment) {
        const a = post.attachment;
        addAttachment(a.data, a.contentType, a.fileName, a.declaredSize);
      }
      for (const a of post.attachments ?? [])
        addAttachment(a.data, a.contentType, a.fileName, a.declaredSize);
      const message = messageObject({
        id,
        channelId: post.channelId,
        author,
        content: post.content ?? '',
        replyTo: post.replyTo,
        flags: post.voice ? VOICE_MESSAGE_FLAG : 0,
        attachments: files,
      });
      if (!isDm(post.channelId)) {
        message.member = {
          roles: [],
          joined_at: new Date().toISOString(),
          deaf: false,
          mute: false,
          flags: 0,
        };
      }
      messages.set(id, message);
      dispatch('MESSAGE_CREATE', message);
      return { messageId: id };
    },
    runSlashCommand(input) {
      const interactionId = nextId();
      const token = `itoken-${randomUUID()}`;
      interactionChannels.set(token, { id: interactionId, channelId: input.channelId });
      dispatch('INTERACTION_CREATE', {
        id: interactionId,
        application_id: APPLICATION_ID,
        type: 2,
        data: { id: nextId(), name: input.name, type: 1 },
        ...interactionContext(input.channelId, input.userId, token),
      });
      return { interactionId };
    },
    pressButton(input) {
      const bot = botMessages.find(
        (m) => m.messageId === input.messageId && m.channelId === input.channelId && !m.deleted,
      );
      if (!bot?.buttons.some((button) => button.customId === input.customId)) {
        throw new Error(`message ${input.messageId} shows no button ${input.customId}`);
      }
      const interactionId = nextId();
      const token = `itoken-${randomUUID()}`;
      interactionChannels.set(token, {
        id: interactionId,
        channelId: input.channelId,
        messageId: input.messageId,
      });
      dispatch('INTERACTION_CREATE', {
        id: interactionId,
        application_id: APPLICATION_ID,
        type: 3,
        data: { custom_id: input.customId, component_type: 2 },
        message: messages.get(input.messageId),
        ...interactionContext(
          input.channelId,
          input.userId,
          token,
          threads.find((thread) => thread.id === input.channelId)?.parentId ?? null,
        ),
      });
      return { interactionId };
    },
    interactionCallbacks() {
      return [...callbacks];
    },
    botMessages(channelId) {
      return botMessages.filter((message) => channelId === undefined || message.channelId === channelId);
    },
    failNext(route, failure, count = 1) {
      for (let i = 0; i < count; i++) failures.push({ route, failure });
    },
    rateLimit(route, retryAfterSeconds, count = 1) {
      for (let i = 0; i < count; i++) failures.push({ route, failure: rateLimitFailure(retryAfterSeconds) });
    },
    rateLimitFailure,
    storm(route, failure) {
      const storm = { route, failure, hits: 0 };
      storms.add(storm);
      return { end: () => storms.delete(storm), hits: () => storm.hits };
    },
    deleteByUser(channelId, messageId) {
      const bot = botMessages.find((m) => m.messageId === messageId && m.channelId === channelId);
      if (!bot) return;
      bot.deleted = true;
      dispatch('MESSAGE_DELETE', { id: bot.messageId, channel_id: bot.channelId, guild_id: GUILD_ID });
    },
    closeGateway(code, reason) {
      for (const ws of sockets) ws.close(code, reason);
    },
    async goOffline() {
      for (const ws of sockets) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async comeBack() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    callsMatching(route) {
      return calls.filter((call) => route.test(`${call.method} ${call.path}`));
    },
    commandWrites: () => commandWrites,
    failuresLeft: () => failures.length,
    rejectContent(pattern) {
      refusedContent = pattern;
    },
    setCommandsDirectly(list) {
      commands = list.map((command) => ({
        id: nextId(),
        application_id: APPLICATION_ID,
        type: 1,
        ...command,
      }));
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      gateway.close();
      server.closeAllConnections();
      if (!server.listening) return;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const unknownChannel = { message: 'Unknown Channel', code: 10003 };

function rateLimitFailure(retryAfterSeconds: number): ScriptedFailure {
  return {
    status: 429,
    body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
    headers: { 'retry-after': String(Math.ceil(retryAfterSeconds)), 'x-ratelimit-scope': 'user' },
  };
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** discord.js crashes on a 204 that carries a JSON content-type or a body, as real Discord never sends one. */
function noContent(response: ServerResponse): void {
  response.writeHead(204);
  response.end();
}

/** The buttons of a components array (action rows of type 1 holding buttons of type 2), flattened. */
function buttonsOf(components: unknown): DiscordButton[] {
  if (!Array.isArray(components)) return [];
  const buttons: DiscordButton[] = [];
  for (const row of components) {
    const inner = typeof row === 'object' && row !== null && 'components' in row ? row.components : [];
    // Discord refuses an action row of more than five buttons.
    if (Array.isArray(inner) && inner.length > 5) throw new Error('an action row holds at most 5 components');
    for (const item of Array.isArray(inner) ? inner : []) {
      if (typeof item !== 'object' || item === null) continue;
      const { custom_id: customId, label, style } = item as Record<string, unknown>;
      if (typeof customId === 'string' && typeof label === 'string' && typeof style === 'number') {
        if (customId.length > 100) throw new Error('custom_id longer than 100 characters');
        buttons.push({ customId, label, style });
      }
    }
  }
  return buttons;
}
