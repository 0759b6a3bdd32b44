import { setTimeout as sleep } from 'node:timers/promises';
import { Bot, GrammyError, HttpError } from 'grammy';
import type { Message, PhotoSize } from 'grammy/types';
import type { Logger } from 'pino';
import type { TelegramConfig } from '../src/config.js';
import { telegramMenu } from './commands/index.js';
import type { Incoming, IncomingBase, IncomingFile, IncomingHandler, MessagingPlatform } from './platform.js';
import type { ChatButton } from './render/index.js';
import {
  createOutageLog,
  describeNetworkError,
  PlatformRefusedError,
  startRetryDelayMs,
} from './start-errors.js';
import { createAlbumGatherer } from './telegram-albums.js';
import { toTelegramChatApiError } from './telegram-errors.js';

// Telegram through grammy: long polling, HTML parse mode, commands registered only when they changed (setting
// them on every start is what gets bots throttled), and every Bot API failure turned into a ChatApiError.
// grammy has no built-in retry (auto-retry is a plugin we do not install), so 429s reach the outbox.

export const TELEGRAM_MAX_LENGTH = 4096;

export const TELEGRAM_COMMANDS = telegramMenu();

export interface TelegramPlatformOptions {
  config: TelegramConfig;
  logger: Logger;
  /** Seconds a getUpdates call waits for news; Telegram allows up to 50. */
  pollingTimeoutSeconds?: number;
  /** After polling gave up (409: another program polls this bot; 401), how long until it polls again. */
  pollingRetryMs?: number;
}

export function createTelegramPlatform(options: TelegramPlatformOptions): MessagingPlatform {
  const { config, logger } = options;
  const bot = new Bot(config.token, { client: { apiRoot: config.apiRoot } });
  const allowed = new Set(config.allowedUserIds);
  let polling: Promise<void> | null = null;
  let starting = new AbortController();

  const call = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw toTelegramChatApiError(error);
    }
  };

  const syncCommands = async (): Promise<void> => {
    const current = await bot.api.getMyCommands();
    const same =
      current.length === TELEGRAM_COMMANDS.length &&
      current.every(
        (command, index) =>
          command.command === TELEGRAM_COMMANDS[index]?.command &&
          command.description === TELEGRAM_COMMANDS[index]?.description,
      );
    if (same) return;
    await bot.api.setMyCommands(TELEGRAM_COMMANDS);
    logger.info({ commands: TELEGRAM_COMMANDS.map((c) => c.command) }, 'telegram commands registered');
  };

  const download = async (fileId: string, signal: AbortSignal): Promise<Uint8Array> => {
    const file = await call(() => bot.api.getFile(fileId));
    if (!file.file_path) throw new Error('Telegram gave no download path for this file');
    const response = await fetch(`${config.apiRoot}/file/bot${config.token}/${file.file_path}`, { signal });
    if (!response.ok) throw new Error(`Telegram file download failed with HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };

  const toIncoming = (message: Message): Incoming | null => {
    if (!message.from) return null;
    const base: IncomingBase = {
      platform: 'telegram',
      chatId: String(message.chat.id),
      messageId: String(message.message_id),
      userId: String(message.from.id),
      replyToMessageId: message.reply_to_message ? String(message.reply_to_message.message_id) : null,
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
  };

  // An outage (at start, or while polling: grammy retries getUpdates by itself, silently) gets a line in the
  // log, and another when it is over.
  const outage = createOutageLog(
    (message) => logger.warn(message),
    (message) => logger.info(message),
  );
  bot.api.config.use(async (previous, method, payload, signal) => {
    try {
      const result = await previous(method, payload, signal);
      outage.recovered('Telegram reachable again');
      return result;
    } catch (error) {
      // A stop aborts the pending long poll: that is no outage.
      if (error instanceof HttpError && !signal?.aborted) {
        outage.failed(
          `cannot reach Telegram at ${config.apiRoot} (${describeNetworkError(error.error)}); retrying`,
        );
      }
      throw error;
    }
  });

  /** getMe until Telegram answers: a refused token ends it, an outage is waited out (at most a minute apart). */
  const introduce = async (signal: AbortSignal): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        bot.botInfo = await bot.api.getMe(signal as unknown as Parameters<typeof bot.api.getMe>[0]);
        return;
      } catch (error) {
        signal.throwIfAborted();
        // 401: a revoked or mistyped token; 404: not a token at all (or not a Bot API server). Neither heals.
        if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404)) {
          const where =
            error.error_code === 401 || new URL(config.apiRoot).hostname === 'api.telegram.org'
              ? ''
              : `, or TELEGRAM_API_ROOT ${config.apiRoot} is not a Bot API server`;
          throw new PlatformRefusedError(
            `Telegram refused TELEGRAM_BOT_TOKEN (${error.error_code} ${error.description}): copy the token @BotFather gave you${where}`,
          );
        }
        const transient =
          error instanceof HttpError ||
          (error instanceof GrammyError && (error.error_code >= 500 || error.error_code === 429));
        if (!transient) throw error;
        await sleep(startRetryDelayMs(attempt), undefined, { signal });
      }
    }
  };

  /**
   * Long polling until stopped. grammy retries network failures itself but gives up on a 409 (another program
   * polls this bot: a second relay, or an old one still running) and a 401 (the token was revoked): the bot
   * would go deaf with one log line. Instead it says why, and polls again after a pause, so it takes over
   * once the other program stops.
   */
  const poll = async (signal: AbortSignal, onPolling: () => void): Promise<void> => {
    const retryMs = options.pollingRetryMs ?? 30_000;
    while (!signal.aborted) {
      try {
        await bot.start({
          timeout: options.pollingTimeoutSeconds ?? 30,
          allowed_updates: ['message', 'callback_query'],
          onStart: onPolling,
        });
        return; // stop() ended it
      } catch (error) {
        if (signal.aborted) return;
        logger.error(
          { err: error },
          `telegram polling stopped: ${pollingFailure(error)}; polling again in ${retryMs / 1000} s`,
        );
        await sleep(retryMs, undefined, { signal }).catch(() => {});
      }
    }
  };

  // Installed once: grammy refuses new middleware while running, and a platform may be restarted.
  let onMessage: IncomingHandler = () => {};
  const albums = createAlbumGatherer((album) => onMessage(album));
  bot.on('message', (ctx) => {
    const message = ctx.message;
    const userId = message.from ? String(message.from.id) : '';
    if (!platform.isAllowed(String(message.chat.id), userId)) {
      logger.warn({ chatId: message.chat.id, userId }, 'telegram message from a user not allowed: ignored');
      return;
    }
    const incoming = toIncoming(message);
    if (incoming?.kind === 'files' && message.media_group_id !== undefined) {
      albums.add(message.media_group_id, incoming);
    } else if (incoming) albums.pass(incoming);
  });
  bot.on('callback_query:data', async (ctx) => {
    const query = ctx.callbackQuery;
    const userId = String(query.from.id);
    const message = query.message;
    if (!message || !platform.isAllowed(String(message.chat.id), userId)) {
      logger.warn({ userId }, 'telegram button press from a user not allowed: refused');
      await call(() =>
        ctx.answerCallbackQuery({
          text: 'Only the people this bot works for can answer this.',
          show_alert: true,
        }),
      );
      return;
    }
    onMessage({
      platform: 'telegram',
      chatId: String(message.chat.id),
      messageId: String(message.message_id),
      userId,
      replyToMessageId: null,
      kind: 'button',
      data: query.data,
      acknowledge: async (text) => {
        await call(() => ctx.answerCallbackQuery({ text }));
      },
    });
  });
  bot.catch((error) => logger.error({ err: error.error }, 'telegram update handler failed'));

  const platform: MessagingPlatform = {
    name: 'telegram',
    limits: { dialect: 'telegram-html', maxLength: TELEGRAM_MAX_LENGTH },

    isAllowed: (_chatId, userId) => allowed.has(userId),

    botName: () => (bot.isInited() ? bot.botInfo.username : null),

    async start(onIncoming: IncomingHandler) {
      if (allowed.size === 0) {
        logger.warn('ALLOWED_TELEGRAM_USER_ID is empty: the Telegram bot will answer nobody');
      }
      starting = new AbortController();
      const { signal } = starting;
      if (!bot.isInited()) await introduce(signal);
      // Commands are a convenience: failing to register them must not keep the bot from working.
      await syncCommands().catch((error: unknown) =>
        logger.warn({ err: error }, 'telegram commands not registered; typed commands still work'),
      );
      signal.throwIfAborted();
      onMessage = onIncoming;
      await new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        polling = poll(signal, resolve);
      });
      logger.info({ bot: bot.botInfo.username }, 'telegram connected');
    },

    async stop() {
      starting.abort(new Error('telegram platform stopping'));
      if (bot.isRunning()) await bot.stop();
      await polling;
      polling = null;
      albums.flush();
    },

    async sendTyping(chatId) {
      await call(() => bot.api.sendChatAction(chatId, 'typing'));
    },

    async send(chatId, text, sendOptions) {
      const message = await call(() =>
        bot.api.sendMessage(chatId, text, {
          ...(sendOptions.formatted ? { parse_mode: 'HTML' as const } : {}),
          link_preview_options: { is_disabled: true },
          ...(sendOptions.buttons?.length ? { reply_markup: keyboardOf(sendOptions.buttons) } : {}),
          ...(sendOptions.replyToMessageId
            ? {
                reply_parameters: {
                  message_id: Number(sendOptions.replyToMessageId),
                  allow_sending_without_reply: true,
                },
              }
            : {}),
        }),
      );
      return { messageId: String(message.message_id) };
    },

    async edit(chatId, messageId, text, editOptions) {
      await call(() =>
        bot.api.editMessageText(chatId, Number(messageId), text, {
          ...(editOptions.formatted ? { parse_mode: 'HTML' as const } : {}),
          link_preview_options: { is_disabled: true },
          ...(editOptions.buttons === undefined ? {} : { reply_markup: keyboardOf(editOptions.buttons) }),
        }),
      );
    },

    async delete(chatId, messageId) {
      await call(() => bot.api.deleteMessage(chatId, Number(messageId)));
    },
  };
  return platform;
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

/** One row of inline buttons; an empty list removes the keyboard. */
function keyboardOf(buttons: readonly ChatButton[]): {
  inline_keyboard: Array<Array<{ text: string; callback_data: string }>>;
} {
  return {
    inline_keyboard:
      buttons.length === 0
        ? []
        : [buttons.map((button) => ({ text: button.label, callback_data: button.id }))],
  };
}

function pollingFailure(error: unknown): string {
  if (error instanceof GrammyError && error.error_code === 409) {
    return 'another program is polling this bot (409 Conflict); stop the other relay, or it gets the messages';
  }
  if (error instanceof GrammyError && error.error_code === 401) {
    return 'Telegram refused TELEGRAM_BOT_TOKEN (401): was the token revoked?';
  }
  return error instanceof Error ? error.message : String(error);
}
