import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Attachment,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  Client,
  DiscordjsError,
  DiscordjsErrorCodes,
  Events,
  GatewayIntentBits,
  type Interaction,
  type Message,
  MessageFlags,
  Routes,
} from 'discord.js';
import type { Logger } from 'pino';
import type { DiscordConfig } from '../src/config.js';
import { discordSlashCommands } from './commands/index.js';
import { toDiscordChatApiError } from './discord-errors.js';
import type {
  CommandName,
  Incoming,
  IncomingBase,
  IncomingFile,
  IncomingHandler,
  MessagingPlatform,
} from './platform.js';
import type { ChatButton } from './render/index.js';
import {
  createOutageLog,
  describeNetworkError,
  isTransient,
  PlatformRefusedError,
  startRetryDelayMs,
} from './start-errors.js';

// Discord through discord.js: gateway for incoming messages and slash commands, REST for everything we send.
// discord.js would silently wait out 429s inside its REST queue, hiding them from our outbox's per-chat
// pacing; `rejectOnRateLimit` makes it throw instead, and the outbox waits the time Discord asked for.

export const DISCORD_MAX_LENGTH = 2000;

export const DISCORD_COMMANDS: Array<{ name: CommandName; description: string }> = discordSlashCommands();

const AUDIO_EXTENSIONS = /\.(ogg|oga|opus|mp3|m4a|mp4|wav|webm|flac)$/i;

export interface DiscordPlatformOptions {
  config: DiscordConfig;
  logger: Logger;
}

export function createDiscordPlatform(options: DiscordPlatformOptions): MessagingPlatform {
  const { config, logger } = options;
  const channels = new Set(config.allowedChannels);
  const users = new Set(config.allowedUsers);
  // Installed on every client (a start may retry its login, and a platform may be restarted); `deliver` is the
  // current start's handler.
  let deliver: IncomingHandler = () => {};
  let stopping = new AbortController();
  // A fresh client per login attempt: discord.js destroys a client whose login failed, for good.
  const newClient = (): Client => {
    const made = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
      rest: { api: config.apiBase, rejectOnRateLimit: () => true, retries: 1 },
    });
    made.rest.setToken(config.token);
    made.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
    // Fired only when discord.js will not reconnect (token reset, intents revoked …): the bot is deaf until a
    // restart, so the log must say so plainly.
    made.on(Events.ShardDisconnect, (event) =>
      logger.error(
        { code: event.code },
        `discord closed the connection for good (close code ${event.code}); check DISCORD_BOT_TOKEN and the bot's intents, then restart the relay`,
      ),
    );
    made.on(Events.MessageCreate, onMessage);
    made.on(Events.InteractionCreate, onInteraction);
    return made;
  };

  const call = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw toDiscordChatApiError(error);
    }
  };

  const syncCommands = async (applicationId: string): Promise<void> => {
    const current: unknown = await client.rest.get(Routes.applicationCommands(applicationId));
    const existing = Array.isArray(current)
      ? current.map((command: unknown) => commandKey(command)).sort()
      : [];
    const wanted = DISCORD_COMMANDS.map((command) => commandKey(command)).sort();
    if (existing.join('\n') === wanted.join('\n')) return;
    await client.rest.put(Routes.applicationCommands(applicationId), {
      body: DISCORD_COMMANDS.map((command) => ({ ...command, type: 1 })),
    });
    logger.info({ commands: DISCORD_COMMANDS.map((c) => c.name) }, 'discord slash commands registered');
  };

  const download = async (attachment: Attachment, signal: AbortSignal): Promise<Uint8Array> => {
    const response = await fetch(attachment.url, { signal });
    if (!response.ok) throw new Error(`Discord attachment download failed with HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };

  const toIncoming = (message: Message): Incoming | null => {
    const base: IncomingBase = {
      platform: 'discord',
      chatId: message.channelId,
      messageId: message.id,
      userId: message.author.id,
      replyToMessageId: message.reference?.messageId ?? null,
    };
    const isAudio = (attachment: Attachment): boolean =>
      attachment.contentType?.startsWith('audio/') === true || AUDIO_EXTENSIONS.test(attachment.name);
    const fileOf = (attachment: Attachment, fallbackMime: string): IncomingFile => ({
      fileName: attachment.name,
      mimeType: attachment.contentType ?? fallbackMime,
      sizeBytes: attachment.size,
      download: (signal) => download(attachment, signal),
    });
    const audio = message.attachments.find(isAudio);
    const isVoiceMessage = message.flags.has(MessageFlags.IsVoiceMessage);
    if (audio && (isVoiceMessage || message.content.trim() === '')) {
      return { ...base, kind: 'audio', audio: fileOf(audio, 'audio/ogg') };
    }
    // Audio next to text or other files is not transcribed; every other attachment goes with the task.
    const files = message.attachments
      .filter((attachment) => !isAudio(attachment))
      .map((attachment) => fileOf(attachment, 'application/octet-stream'));
    if (files.length > 0) return { ...base, kind: 'files', text: message.content, files };
    if (message.content.trim() !== '') return { ...base, kind: 'text', text: message.content };
    return null;
  };

  const toCommand = (interaction: ChatInputCommandInteraction): Incoming | null => {
    const command = DISCORD_COMMANDS.find((candidate) => candidate.name === interaction.commandName);
    if (!command) return null;
    return {
      platform: 'discord',
      chatId: interaction.channelId,
      messageId: interaction.id,
      userId: interaction.user.id,
      replyToMessageId: null,
      kind: 'command',
      command: command.name,
      respond: async (text) => {
        await call(() =>
          interaction.editReply({
            content: text.slice(0, DISCORD_MAX_LENGTH),
            allowedMentions: { parse: [] },
          }),
        );
      },
    };
  };

  /** Whether this person may use the bot here; a stranger is logged with `refusal` (the caller does the rest). */
  const admitted = (channelId: string, userId: string, refusal: string): boolean => {
    if (platform.isAllowed(channelId, userId)) return true;
    logger.warn({ channelId, userId }, refusal);
    return false;
  };

  /** A component press: strangers get an ephemeral refusal; others a deferred update, then the controller acts. */
  const onButton = (interaction: ButtonInteraction): void => {
    const failed = (error: unknown): void => {
      logger.error({ err: error }, 'discord could not acknowledge a button press');
    };
    if (
      !admitted(
        interaction.channelId,
        interaction.user.id,
        'discord button press outside the allow-list: refused',
      )
    ) {
      interaction
        .reply({
          content: 'Only the people this bot works for can answer this.',
          flags: MessageFlags.Ephemeral,
        })
        .catch(failed);
      return;
    }
    const incoming: Incoming = {
      platform: 'discord',
      chatId: interaction.channelId,
      messageId: interaction.message.id,
      userId: interaction.user.id,
      replyToMessageId: null,
      kind: 'button',
      data: interaction.customId,
      acknowledge: async (text) => {
        await call(() => interaction.followUp({ content: text, flags: MessageFlags.Ephemeral }));
      },
    };
    // Within Discord's 3 s: a deferred update (type 6), so the message is edited later, not replied to.
    interaction.deferUpdate().then(() => deliver(incoming), failed);
  };

  function onMessage(message: Message): void {
    if (message.author.bot || message.system) return;
    if (!admitted(message.channelId, message.author.id, 'discord message outside the allow-list: ignored'))
      return;
    const incoming = toIncoming(message);
    if (incoming) deliver(incoming);
  }

  function onInteraction(interaction: Interaction): void {
    if (interaction.isButton()) {
      onButton(interaction);
      return;
    }
    if (!interaction.isChatInputCommand()) return;
    if (
      !admitted(
        interaction.channelId,
        interaction.user.id,
        'discord slash command outside the allow-list: ignored',
      )
    )
      return;
    const incoming = toCommand(interaction);
    if (!incoming) return;
    // Discord wants an acknowledgement within 3 s; the answer follows as an edit of it.
    interaction.deferReply().then(
      () => deliver(incoming),
      (error: unknown) => logger.error({ err: error }, 'discord could not acknowledge a slash command'),
    );
  }

  let client = newClient();

  const platform: MessagingPlatform = {
    name: 'discord',
    limits: { dialect: 'discord-markdown', maxLength: DISCORD_MAX_LENGTH },

    isAllowed: (chatId, userId) => channels.has(chatId) && (users.size === 0 || users.has(userId)),

    botName: () => client.user?.username ?? null,

    async start(onIncoming: IncomingHandler) {
      if (channels.size === 0) {
        logger.warn('ALLOWED_DISCORD_CHANNELS is empty: the Discord bot will answer nobody');
      }
      deliver = onIncoming;
      stopping = new AbortController();
      const { signal } = stopping;
      const outage = createOutageLog(
        (message) => logger.warn(message),
        (message) => logger.info(message),
      );
      for (let attempt = 1; ; attempt++) {
        client = newClient();
        // A stop while the gateway is still identifying ends the wait too.
        const ready = once(client, Events.ClientReady, { signal });
        ready.catch(() => {}); // a failed attempt leaves it pending; a later stop must not make it unhandled
        try {
          await client.login(config.token);
          await ready;
          break;
        } catch (error) {
          const refused = refusal(error);
          if (refused !== null) throw new PlatformRefusedError(refused);
          if (!isTransient(error)) throw error;
          const delayMs = startRetryDelayMs(attempt);
          outage.failed(
            `cannot reach Discord at ${config.apiBase} (${describeNetworkError(error)}); retrying in ${delayMs / 1000} s`,
          );
          await sleep(delayMs, undefined, { signal });
        }
      }
      signal.throwIfAborted();
      outage.recovered('Discord reachable');
      const applicationId = client.application?.id;
      if (applicationId) {
        // Commands are a convenience: failing to register them must not keep the bot from working.
        await syncCommands(applicationId).catch((error: unknown) =>
          logger.warn({ err: error }, 'discord slash commands not registered; typed commands still work'),
        );
      }
      logger.info({ bot: client.user?.username }, 'discord connected');
    },

    async stop() {
      stopping.abort(new Error('discord platform stopping'));
      deliver = () => {};
      await client.destroy();
      // destroy() also drops the REST token; what is already owed (final answers) still goes out over REST
      // after the gateway is closed, as it does on Telegram once polling stopped.
      client.rest.setToken(config.token);
    },

    async sendTyping(chatId) {
      await call(() => client.rest.post(Routes.channelTyping(chatId)));
    },

    async send(chatId, text, sendOptions) {
      const created: unknown = await call(() =>
        client.rest.post(Routes.channelMessages(chatId), {
          body: {
            content: text,
            allowed_mentions: { parse: [] },
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
      await call(() =>
        client.rest.patch(Routes.channelMessage(chatId, messageId), {
          body: {
            content: text,
            allowed_mentions: { parse: [] },
            ...(editOptions.buttons === undefined ? {} : { components: componentsOf(editOptions.buttons) }),
          },
        }),
      );
    },

    async delete(chatId, messageId) {
      await call(() => client.rest.delete(Routes.channelMessage(chatId, messageId)));
    },
  };
  return platform;
}

function commandKey(command: unknown): string {
  if (typeof command !== 'object' || command === null) return '';
  const name = 'name' in command ? String(command.name) : '';
  const description = 'description' in command ? String(command.description) : '';
  return `${name}\u0000${description}`;
}

const BUTTON_STYLES: Record<ChatButton['style'], number> = {
  primary: 1,
  secondary: 2,
  success: 3,
  danger: 4,
};

/** One action row of buttons (component type 1 holding type 2); an empty list removes them. */
function componentsOf(buttons: readonly ChatButton[]): object[] {
  if (buttons.length === 0) return [];
  return [
    {
      type: 1,
      components: buttons.map((button) => ({
        type: 2,
        style: BUTTON_STYLES[button.style],
        label: button.label,
        custom_id: button.id,
      })),
    },
  ];
}

/** What Discord said when it refused the bot for good (never worth retrying), or null. */
function refusal(error: unknown): string | null {
  if (error instanceof DiscordjsError && error.code === DiscordjsErrorCodes.TokenInvalid) {
    return 'Discord refused DISCORD_BOT_TOKEN (401 Unauthorized): copy the bot token from the Developer Portal (Bot → Reset Token)';
  }
  const message = error instanceof Error ? error.message : '';
  if (/disallowed intents/i.test(message)) {
    return 'Discord refused the Message Content intent: turn it on in the Developer Portal (Bot → Privileged Gateway Intents)';
  }
  return null;
}
