import {
  type Attachment,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type Message,
  MessageFlags,
} from 'discord.js';
import type { Logger } from 'pino';
import type { Incoming, IncomingBase, IncomingFile } from '../platform.js';
import { menuCommand } from './commands.js';
import { discordCall } from './errors.js';
import { DISCORD_MAX_LENGTH } from './transport.js';

// What arrives over the gateway (messages, slash commands, button presses) → what the controller understands.
// Strangers are filtered here, and only allowed users' events are delivered.

const AUDIO_EXTENSIONS = /\.(ogg|oga|opus|mp3|m4a|mp4|wav|webm|flac)$/i;

/** The allow-list's name for a direct message: only ALLOWED_DISCORD_USERS may write there. */
export const DM_SCOPE = 'dm';

/** Where an event happened, as the allow-list knows it: a thread as the channel it belongs to, a DM as a DM. */
export function allowScope(channel: Message['channel'] | Interaction['channel'], channelId: string): string {
  if (channel === null) return channelId;
  if (channel.isDMBased()) return DM_SCOPE;
  if (channel.isThread()) return channel.parentId ?? channelId;
  return channelId;
}

export interface InboundOptions {
  /** `scope`: a channel id (a thread's parent), or DM_SCOPE. */
  isAllowed(scope: string, userId: string): boolean;
  logger: Logger;
  /** Hands an allowed user's event to the current start's handler. */
  deliver(incoming: Incoming): void;
}

export interface Inbound {
  onMessage(message: Message): void;
  onInteraction(interaction: Interaction): void;
}

export function createInbound(options: InboundOptions): Inbound {
  const { logger, deliver } = options;

  /** Whether this person may use the bot here; a stranger is logged with `refusal` (the caller does the rest). */
  const admitted = (scope: string, userId: string, refusal: string): boolean => {
    if (options.isAllowed(scope, userId)) return true;
    logger.warn({ scope, userId }, refusal);
    return false;
  };

  /** A component press: strangers get an ephemeral refusal; others a deferred update, then the controller acts. */
  const onButton = (interaction: ButtonInteraction): void => {
    const failed = (error: unknown): void => {
      logger.error({ err: error }, 'discord could not acknowledge a button press');
    };
    if (
      !admitted(
        allowScope(interaction.channel, interaction.channelId),
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
        await discordCall(() => interaction.followUp({ content: text, flags: MessageFlags.Ephemeral }));
      },
    };
    // Within Discord's 3 s: a deferred update (type 6), so the message is edited later, not replied to.
    interaction.deferUpdate().then(() => deliver(incoming), failed);
  };

  return {
    onMessage(message) {
      if (message.author.bot || message.system) return;
      const scope = allowScope(message.channel, message.channelId);
      if (!admitted(scope, message.author.id, 'discord message outside the allow-list: ignored')) return;
      const incoming = toIncoming(message);
      if (incoming) deliver(incoming);
    },

    onInteraction(interaction) {
      if (interaction.isButton()) {
        onButton(interaction);
        return;
      }
      if (!interaction.isChatInputCommand()) return;
      if (
        !admitted(
          allowScope(interaction.channel, interaction.channelId),
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
    },
  };
}

/** A message → text, audio to transcribe, or files for the task; null when it holds nothing to act on. */
function toIncoming(message: Message): Incoming | null {
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
}

/** A slash command of our menu, answered later by editing the deferred reply; null for any other command. */
function toCommand(interaction: ChatInputCommandInteraction): Incoming | null {
  const command = menuCommand(interaction.commandName);
  if (!command) return null;
  return {
    platform: 'discord',
    chatId: interaction.channelId,
    messageId: interaction.id,
    userId: interaction.user.id,
    replyToMessageId: null,
    kind: 'command',
    command,
    respond: async (text) => {
      await discordCall(() =>
        interaction.editReply({
          content: text.slice(0, DISCORD_MAX_LENGTH),
          allowedMentions: { parse: [] },
        }),
      );
    },
  };
}

async function download(attachment: Attachment, signal: AbortSignal): Promise<Uint8Array> {
  const response = await fetch(attachment.url, { signal });
  if (!response.ok) throw new Error(`Discord attachment download failed with HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
