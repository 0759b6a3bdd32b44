import type { Bot } from 'grammy';
import type { Message, PhotoSize } from 'grammy/types';
import type { Logger } from 'pino';
import type { Incoming, IncomingBase, IncomingFile, IncomingHandler } from '../platform.js';
import { createAlbumGatherer } from './albums.js';
import type { TelegramConfig } from './config.js';
import { telegramCall } from './errors.js';
import { chatIdOf, replyToOf } from './topics.js';

// What arrives by long polling (messages, button presses) → what the controller understands. Strangers are
// filtered here; an album's parts are gathered into one message before they are delivered.

export interface InboundOptions {
  config: TelegramConfig;
  logger: Logger;
  isAllowed(chatId: string, userId: string): boolean;
  /** Hands an allowed user's message to the current start's handler. */
  deliver: IncomingHandler;
}

/**
 * Installs the update handlers, once: grammy refuses new middleware while running, and a platform may be
 * restarted. Returns the flush for albums still gathering at stop.
 */
export function installInbound(bot: Bot, options: InboundOptions): { flush(): void } {
  const { logger, isAllowed, deliver } = options;
  const albums = createAlbumGatherer((album) => deliver(album));
  const download = (fileId: string, signal: AbortSignal): Promise<Uint8Array> =>
    downloadFile(bot, options.config, fileId, signal);
  bot.on('message', (ctx) => {
    const message = ctx.message;
    const userId = message.from ? String(message.from.id) : '';
    if (!isAllowed(String(message.chat.id), userId)) {
      logger.warn({ chatId: message.chat.id, userId }, 'telegram message from a user not allowed: ignored');
      return;
    }
    const incoming = toIncoming(message, download);
    if (incoming?.kind === 'files' && message.media_group_id !== undefined) {
      albums.add(message.media_group_id, incoming);
    } else if (incoming) albums.pass(incoming);
  });
  bot.on('callback_query:data', async (ctx) => {
    const query = ctx.callbackQuery;
    const userId = String(query.from.id);
    const message = query.message;
    if (!message || !isAllowed(String(message.chat.id), userId)) {
      logger.warn({ userId }, 'telegram button press from a user not allowed: refused');
      await telegramCall(() =>
        ctx.answerCallbackQuery({
          text: 'Only the people this bot works for can answer this.',
          show_alert: true,
        }),
      );
      return;
    }
    deliver({
      platform: 'telegram',
      chatId: chatIdOf(message),
      messageId: String(message.message_id),
      userId,
      replyToMessageId: null,
      kind: 'button',
      data: query.data,
      acknowledge: async (text) => {
        await telegramCall(() => ctx.answerCallbackQuery({ text }));
      },
    });
  });
  bot.catch((error) => logger.error({ err: error.error }, 'telegram update handler failed'));
  return { flush: () => albums.flush() };
}

type Download = (fileId: string, signal: AbortSignal) => Promise<Uint8Array>;

/** A message → text, audio to transcribe, files for the task, or a note that it is unsupported; else null. */
function toIncoming(message: Message, download: Download): Incoming | null {
  if (!message.from) return null;
  const base: IncomingBase = {
    platform: 'telegram',
    chatId: chatIdOf(message),
    messageId: String(message.message_id),
    userId: String(message.from.id),
    replyToMessageId: replyToOf(message),
  };
  const fileOf = (
    file: { file_id: string; file_size?: number; mime_type?: string },
    fileName: string,
    fallbackMime: string,
  ): IncomingFile => ({
    fileName,
    mimeType: file.mime_type ?? fallbackMime,
    sizeBytes: file.file_size ?? null,
    download: (signal) => download(file.file_id, signal),
  });
  if (message.voice)
    return { ...base, kind: 'audio', audio: fileOf(message.voice, 'voice.ogg', 'audio/ogg') };
  if (message.audio) {
    const name = message.audio.file_name ?? 'audio';
    return { ...base, kind: 'audio', audio: fileOf(message.audio, name, 'audio/ogg') };
  }
  const { document, photo } = message;
  if (document?.mime_type?.startsWith('audio/')) {
    return { ...base, kind: 'audio', audio: fileOf(document, document.file_name ?? 'audio', 'audio/ogg') };
  }
  const caption = message.caption ?? '';
  if (document) {
    const name = document.file_name ?? 'file';
    return {
      ...base,
      kind: 'files',
      text: caption,
      files: [fileOf(document, name, 'application/octet-stream')],
    };
  }
  const largest = photo ? largestPhoto(photo) : undefined;
  if (largest) {
    // Telegram re-encodes every photo as JPEG and sends it in several sizes; the largest is the sharpest.
    return { ...base, kind: 'files', text: caption, files: [fileOf(largest, 'photo.jpg', 'image/jpeg')] };
  }
  const text = message.text ?? message.caption;
  if (text !== undefined && text.trim() !== '') return { ...base, kind: 'text', text };
  if (message.sticker || message.video || message.video_note) {
    return { ...base, kind: 'unsupported', description: 'a video or sticker' };
  }
  return null;
}

/** The biggest of a photo's sizes, by declared bytes or else by pixels. */
function largestPhoto(sizes: readonly PhotoSize[]): PhotoSize | undefined {
  let best: PhotoSize | undefined;
  for (const size of sizes) {
    const score = size.file_size ?? size.width * size.height;
    const bestScore = best ? (best.file_size ?? best.width * best.height) : -1;
    if (score > bestScore) best = size;
  }
  return best;
}

async function downloadFile(
  bot: Bot,
  config: TelegramConfig,
  fileId: string,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const file = await telegramCall(() => bot.api.getFile(fileId));
  if (!file.file_path) throw new Error('Telegram gave no download path for this file');
  const response = await fetch(`${config.apiRoot}/file/bot${config.token}/${file.file_path}`, { signal });
  if (!response.ok) throw new Error(`Telegram file download failed with HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
