import { setTimeout as sleep } from 'node:timers/promises';
import { type Bot, GrammyError, HttpError } from 'grammy';
import type { Logger } from 'pino';
import {
  createOutageLog,
  describeNetworkError,
  PlatformRefusedError,
  startRetryDelayMs,
} from '../start-errors.js';
import type { TelegramConfig } from './config.js';

// Reaching Telegram and staying reachable: outages logged as they start and end, the first getMe retried
// until Telegram answers, and long polling that comes back after grammy gave up on it.

/**
 * An outage (at start, or while polling: grammy retries getUpdates by itself, silently) gets a line in the
 * log, and another when it is over.
 */
export function logOutages(bot: Bot, config: TelegramConfig, logger: Logger): void {
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
}

/** getMe until Telegram answers: a refused token ends it, an outage is waited out (at most a minute apart). */
export async function introduce(bot: Bot, config: TelegramConfig, signal: AbortSignal): Promise<void> {
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
}

export interface PollOptions {
  /** Seconds a getUpdates call waits for news; Telegram allows up to 50. */
  timeoutSeconds: number;
  /** After polling gave up (409: another program polls this bot; 401), how long until it polls again. */
  retryMs: number;
  /** Called once polling runs. */
  onPolling(): void;
}

/**
 * Long polling until stopped. grammy retries network failures itself but gives up on a 409 (another program
 * polls this bot: a second relay, or an old one still running) and a 401 (the token was revoked): the bot
 * would go deaf with one log line. Instead it says why, and polls again after a pause, so it takes over
 * once the other program stops.
 */
export async function poll(
  bot: Bot,
  logger: Logger,
  signal: AbortSignal,
  options: PollOptions,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await bot.start({
        timeout: options.timeoutSeconds,
        allowed_updates: ['message', 'callback_query'],
        onStart: options.onPolling,
      });
      return; // stop() ended it
    } catch (error) {
      if (signal.aborted) return;
      logger.error(
        { err: error },
        `telegram polling stopped: ${pollingFailure(error)}; polling again in ${options.retryMs / 1000} s`,
      );
      await sleep(options.retryMs, undefined, { signal }).catch(() => {});
    }
  }
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
