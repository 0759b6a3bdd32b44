import { configured, discordModule, type PlatformsConfig, telegramModule } from '../../platforms/index.js';
import type { MessageRef } from '../../sessions/index.js';
import { DISCORD_MAX_LENGTH, type FakeDiscord, startFakeDiscord } from '../fakes/discord-api.js';
import { type FakeTelegram, startFakeTelegram, TELEGRAM_MAX_LENGTH } from '../fakes/telegram-api.js';
import { type RelayRig, startRelayRig } from './relay-rig.js';

// Both chat fakes behind one small driver each, for the fault and soak tests that run one relay over both
// platforms at once: play the user, read what the bot shows, and break the chat API in scripted ways.

export interface BotMessage {
  id: string;
  replyTo: string | null;
  /** What the user sees now. */
  text: string;
  versions: number;
  deleted: boolean;
}

export interface ChatStorm {
  end(): void;
  hits(): number;
}

export interface ChatFakeDriver {
  readonly name: 'telegram' | 'discord';
  readonly maxLength: number;
  /** The bot's user name on this platform (for `/cmd@name`). */
  readonly botName: string;
  /** The id of a message in this chat that the bot never saw. */
  readonly unseenMessageId: string;
  send(text: string, replyTo?: string): string;
  /** A message with no text at all, or only whitespace (`text` given). */
  sendEmpty(text?: string): string;
  messages(): BotMessage[];
  /** The chat reference the engine keeps for a user message. */
  ref(messageId: string): MessageRef;
  /** Every send and edit refused with 429 (retry_after in seconds) until `end()`. */
  rateLimitStorm(retryAfterSeconds: number): ChatStorm;
  /** Every send and edit refused with 500 and 502 in turn until `end()`. */
  serverErrorStorm(): ChatStorm;
  /** The next `count` edits are refused with a 1 s retry_after. */
  scriptRateLimits(count: number): void;
  deleteByUser(messageId: string): void;
  goOffline(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

export const TELEGRAM_USER = 5150;
export const DISCORD_CHANNEL = '300000000000000001';
export const DISCORD_USER = '400000000000000001';

export async function startTelegramDriver(): Promise<ChatFakeDriver & { fake: FakeTelegram }> {
  const fake = await startFakeTelegram();
  const writes = ['sendMessage', 'editMessageText'];
  return {
    name: 'telegram',
    fake,
    maxLength: TELEGRAM_MAX_LENGTH,
    botName: 'relay_test_bot',
    unseenMessageId: '999999',
    sendEmpty: (text) =>
      String(
        fake.sendUserMessage({ userId: TELEGRAM_USER, ...(text === undefined ? {} : { text }) }).messageId,
      ),
    send: (text, replyTo) =>
      String(
        fake.sendUserMessage({
          userId: TELEGRAM_USER,
          text,
          ...(replyTo === undefined ? {} : { replyTo: Number(replyTo) }),
        }).messageId,
      ),
    messages: () =>
      fake.botMessages(TELEGRAM_USER).map((m) => ({
        id: String(m.messageId),
        replyTo: m.replyTo === null ? null : String(m.replyTo),
        text: m.history.at(-1) ?? '',
        versions: m.history.length,
        deleted: m.deleted,
      })),
    ref: (messageId) => ({ platform: 'telegram', chatId: String(TELEGRAM_USER), messageId }),
    rateLimitStorm: (seconds) =>
      fake.storm(writes, {
        errorCode: 429,
        description: `Too Many Requests: retry after ${seconds}`,
        retryAfter: seconds,
      }),
    serverErrorStorm: () => {
      const a = fake.storm(['sendMessage'], { errorCode: 502, description: 'Bad Gateway' });
      const b = fake.storm(['editMessageText'], { errorCode: 500, description: 'Internal Server Error' });
      return together(a, b);
    },
    scriptRateLimits: (count) =>
      fake.failNext(
        'editMessageText',
        { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 },
        count,
      ),
    deleteByUser: (messageId) => fake.deleteByUser(TELEGRAM_USER, Number(messageId)),
    goOffline: () => fake.goOffline(),
    comeBack: () => fake.comeBack(),
    close: () => fake.close(),
  };
}

/** `places`: threads and direct-message channels the fake knows besides the allowed channel. */
export async function startDiscordDriver(
  places: Omit<Parameters<typeof startFakeDiscord>[0], 'channelIds'> = {},
): Promise<ChatFakeDriver & { fake: FakeDiscord }> {
  const fake = await startFakeDiscord({ channelIds: [DISCORD_CHANNEL], ...places });
  const writes = /^(POST \/channels\/\d+\/messages|PATCH \/channels\/\d+\/messages\/\d+)$/;
  return {
    name: 'discord',
    fake,
    maxLength: DISCORD_MAX_LENGTH,
    botName: 'relay',
    unseenMessageId: '123456789012345678',
    sendEmpty: (text) =>
      fake.postUserMessage({ channelId: DISCORD_CHANNEL, userId: DISCORD_USER, content: text ?? '' })
        .messageId,
    send: (text, replyTo) =>
      fake.postUserMessage({
        channelId: DISCORD_CHANNEL,
        userId: DISCORD_USER,
        content: text,
        ...(replyTo === undefined ? {} : { replyTo }),
      }).messageId,
    messages: () =>
      fake.botMessages(DISCORD_CHANNEL).map((m) => ({
        id: m.messageId,
        replyTo: m.replyTo,
        text: m.history.at(-1) ?? '',
        versions: m.history.length,
        deleted: m.deleted,
      })),
    ref: (messageId) => ({ platform: 'discord', chatId: DISCORD_CHANNEL, messageId }),
    rateLimitStorm: (seconds) => fake.storm(writes, fake.rateLimitFailure(seconds)),
    serverErrorStorm: () => {
      const a = fake.storm(/^POST \/channels\/\d+\/messages$/, {
        status: 502,
        body: { message: 'Bad Gateway', code: 0 },
      });
      const b = fake.storm(/^PATCH \/channels\/\d+\/messages\/\d+$/, {
        status: 500,
        body: { message: 'Internal Server Error', code: 0 },
      });
      return together(a, b);
    },
    scriptRateLimits: (count) => fake.rateLimit(/^PATCH \/channels\/\d+\/messages\/\d+$/, 1, count),
    deleteByUser: (messageId) => fake.deleteByUser(DISCORD_CHANNEL, messageId),
    goOffline: () => fake.goOffline(),
    comeBack: () => fake.comeBack(),
    close: () => fake.close(),
  };
}

/** One relay over both fakes, as main.ts configures it when both tokens are set. */
export function bothPlatforms(
  telegram: { fake: FakeTelegram },
  discord: { fake: FakeDiscord },
): (rate: PlatformsConfig['rateLimit']) => PlatformsConfig {
  return (rate) => ({
    platforms: ['telegram', 'discord'],
    configured: [
      configured(telegramModule, {
        token: telegram.fake.token,
        allowedUserIds: [String(TELEGRAM_USER)],
        apiRoot: telegram.fake.apiRoot,
      }),
      configured(discordModule, {
        token: 'fake-bot-token',
        allowedChannels: [DISCORD_CHANNEL],
        allowedUsers: [DISCORD_USER],
        apiBase: discord.fake.apiBase,
      }),
    ],
    rateLimit: rate,
  });
}

/** The bot's messages that reply to `messageId`. */
export function repliesTo(driver: ChatFakeDriver, messageId: string): BotMessage[] {
  return driver.messages().filter((m) => m.replyTo === messageId);
}

/**
 * The whole answer as the user reads it: the bot's replies to their message, each followed by the bot's
 * continuations of it, joined in order.
 */
export function answerText(driver: ChatFakeDriver, userMessageId: string): string {
  const all = driver.messages().filter((m) => !m.deleted);
  const out: string[] = [];
  const visit = (parentId: string): void => {
    for (const message of all.filter((m) => m.replyTo === parentId)) {
      out.push(message.text);
      visit(message.id);
    }
  };
  visit(userMessageId);
  return out.join('\n');
}

function together(a: ChatStorm, b: ChatStorm): ChatStorm {
  return {
    end() {
      a.end();
      b.end();
    },
    hits: () => a.hits() + b.hits(),
  };
}

export interface RelayOnBoth {
  telegram: ChatFakeDriver & { fake: FakeTelegram };
  discord: ChatFakeDriver & { fake: FakeDiscord };
  rig: RelayRig;
  drivers(): ChatFakeDriver[];
  /** Unhandled promise rejections seen in this process since the start: a clean run has none. */
  rejections: unknown[];
  /** Stops the relay and both fakes, once (later calls wait for the first). */
  stop(): Promise<void>;
}

/** One relay over both fakes, as main.ts runs it when both tokens are set, watching for unhandled rejections. */
export async function startRelayOnBoth(
  options: Omit<Parameters<typeof startRelayRig>[0], 'messaging' | 'transcript'> & {
    transcript?: () => string;
  },
): Promise<RelayOnBoth> {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    rejections.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  const telegram = await startTelegramDriver();
  const discord = await startDiscordDriver();
  const rig = await startRelayRig({
    transcript: () => '',
    ...options,
    messaging: bothPlatforms(telegram, discord),
  });
  let stopping: Promise<void> | undefined;
  return {
    telegram,
    discord,
    rig,
    drivers: () => [telegram, discord],
    rejections,
    stop: () => {
      stopping ??= (async () => {
        await rig.stop();
        await telegram.close();
        await discord.close();
        process.off('unhandledRejection', onRejection);
      })();
      return stopping;
    },
  };
}
