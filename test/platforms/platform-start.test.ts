import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDiscordPlatform } from '../../platforms/discord/index.js';
import { createPlatforms } from '../../platforms/index.js';
import type { Incoming, MessagingPlatform } from '../../platforms/platform.js';
import { PlatformRefusedError } from '../../platforms/start-errors.js';
import { createTelegramPlatform } from '../../platforms/telegram/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startFakeDiscord } from '../fakes/discord-api.js';
import { startFakeTelegram } from '../fakes/telegram-api.js';
import { createHarness } from '../sessions/harness.js';
import { bothPlatforms, repliesTo, startDiscordDriver, startTelegramDriver } from './chat-drivers.js';

// Starting against a chat service that refuses the token, or cannot be reached yet (a relay started at boot,
// before the network is up): a refused token is one clear error; an unreachable service is waited for, said
// in the log, and the bot works once it is back.

const CHANNEL = '100000000000000001';
const USER = '200000000000000001';
const TELEGRAM_USER = 4242;
const WAIT = { timeout: 20_000, interval: 50 };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function collect() {
  const lines: string[] = [];
  const logger = createLogger('info', [], { write: (line) => lines.push(line) });
  const messages = () => lines.map((line) => (JSON.parse(line) as { msg: string; level: number }).msg);
  return { logger, messages };
}

/** A Discord platform on the fake, as the relay configures one; `token` is the bot token it presents. */
function discordOn(fake: { apiBase: string }, logger: Logger, token = 'fake-bot-token'): MessagingPlatform {
  return createDiscordPlatform({
    config: { token, allowedChannels: [CHANNEL], allowedUsers: [], apiBase: fake.apiBase },
    logger,
  });
}

/** A Telegram platform on the fake, for the allowed test user. */
function telegramOn(
  fake: { apiRoot: string; token: string },
  logger: Logger,
  options: { token?: string; pollingTimeoutSeconds?: number; pollingRetryMs?: number } = {},
): MessagingPlatform {
  const { token = fake.token, ...polling } = options;
  return createTelegramPlatform({
    config: { token, allowedUserIds: [String(TELEGRAM_USER)], apiRoot: fake.apiRoot },
    logger,
    ...polling,
  });
}

describe('starting a chat platform', () => {
  it('telegram: a refused token is one error naming TELEGRAM_BOT_TOKEN', async () => {
    const fake = await startFakeTelegram();
    cleanups.push(() => fake.close());
    const platform = telegramOn(fake, collect().logger, { token: '999:not-the-token' });
    cleanups.push(() => platform.stop());
    const started = platform.start(() => {});
    await expect(started).rejects.toBeInstanceOf(PlatformRefusedError);
    await expect(started).rejects.toThrow(
      'Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): copy the token @BotFather gave you',
    );
  });

  it('discord: a refused token is one error naming DISCORD_BOT_TOKEN', async () => {
    const fake = await startFakeDiscord({ channelIds: [CHANNEL], token: 'the-real-token' });
    cleanups.push(() => fake.close());
    const platform = discordOn(fake, collect().logger, 'a-reset-token');
    cleanups.push(() => platform.stop());
    const started = platform.start(() => {});
    await expect(started).rejects.toBeInstanceOf(PlatformRefusedError);
    await expect(started).rejects.toThrow(/^Discord refused DISCORD_BOT_TOKEN \(401 Unauthorized\)/);
  });

  it('discord: the Message Content intent turned off is one error saying where to turn it on', async () => {
    const fake = await startFakeDiscord({ channelIds: [CHANNEL], refuseIntents: true });
    cleanups.push(() => fake.close());
    const platform = discordOn(fake, collect().logger);
    cleanups.push(() => platform.stop());
    await expect(platform.start(() => {})).rejects.toThrow(
      'Discord refused the Message Content intent: turn it on in the Developer Portal (Bot → Privileged Gateway Intents)',
    );
  });

  it('telegram: unreachable at start is waited for and logged; once back, messages flow', async () => {
    const fake = await startFakeTelegram();
    cleanups.push(() => fake.close());
    await fake.goOffline();
    const log = collect();
    const incoming: Incoming[] = [];
    const platform: MessagingPlatform = telegramOn(fake, log.logger);
    cleanups.push(() => platform.stop());
    const started = platform.start((message) => incoming.push(message));
    await vi.waitFor(
      () => expect(log.messages()).toContainEqual(expect.stringMatching(/^cannot reach Telegram at http/)),
      WAIT,
    );
    await fake.comeBack();
    await started;
    expect(log.messages()).toContainEqual(expect.stringMatching(/^Telegram reachable again after \d+ s$/));
    // One warning for the whole outage, not one per retry.
    expect(log.messages().filter((msg) => msg.startsWith('cannot reach'))).toHaveLength(1);
    fake.sendUserMessage({ userId: TELEGRAM_USER, text: 'are you there?' });
    await vi.waitFor(
      () => expect(incoming.map((m) => m.kind === 'text' && m.text)).toEqual(['are you there?']),
      WAIT,
    );
  });

  it('discord: unreachable at start is retried with backoff and logged; once back, messages flow', async () => {
    const fake = await startFakeDiscord({ channelIds: [CHANNEL] });
    cleanups.push(() => fake.close());
    await fake.goOffline();
    const log = collect();
    const incoming: Incoming[] = [];
    const platform = discordOn(fake, log.logger);
    cleanups.push(() => platform.stop());
    const started = platform.start((message) => incoming.push(message));
    await vi.waitFor(
      () =>
        expect(log.messages()).toContainEqual(
          expect.stringMatching(/^cannot reach Discord at http.+; retrying in 1 s$/),
        ),
      WAIT,
    );
    await fake.comeBack();
    await started;
    expect(log.messages()).toContainEqual(expect.stringMatching(/^Discord reachable after \d+ s$/));
    fake.postUserMessage({ channelId: CHANNEL, userId: USER, content: 'are you there?' });
    await vi.waitFor(
      () => expect(incoming.map((m) => m.kind === 'text' && m.text)).toEqual(['are you there?']),
      WAIT,
    );
  });

  it('telegram: another program polling the bot (409) is said plainly, and polling resumes once it stops', async () => {
    const fake = await startFakeTelegram();
    cleanups.push(() => fake.close());
    const log = collect();
    const incoming: Incoming[] = [];
    const platform = telegramOn(fake, log.logger, { pollingTimeoutSeconds: 1, pollingRetryMs: 300 });
    cleanups.push(() => platform.stop());
    await platform.start((message) => incoming.push(message));
    fake.failNext(
      'getUpdates',
      { errorCode: 409, description: 'Conflict: terminated by other getUpdates request' },
      2,
    );
    await vi.waitFor(
      () =>
        expect(log.messages()).toContainEqual(
          'telegram polling stopped: another program is polling this bot (409 Conflict); stop the other relay, or it gets the messages; polling again in 0.3 s',
        ),
      WAIT,
    );
    fake.sendUserMessage({ userId: TELEGRAM_USER, text: 'still there?' });
    await vi.waitFor(
      () => expect(incoming.map((m) => m.kind === 'text' && m.text)).toEqual(['still there?']),
      WAIT,
    );
  });

  it('discord: a gateway closed for good while running (token reset) is said plainly in the log', async () => {
    const fake = await startFakeDiscord({ channelIds: [CHANNEL] });
    cleanups.push(() => fake.close());
    const log = collect();
    const platform = discordOn(fake, log.logger);
    cleanups.push(() => platform.stop());
    await platform.start(() => {});
    fake.closeGateway(4004, 'Authentication failed.');
    await vi.waitFor(
      () =>
        expect(log.messages()).toContainEqual(
          "discord closed the connection for good (close code 4004); check DISCORD_BOT_TOKEN and the bot's intents, then restart the relay",
        ),
      WAIT,
    );
  });

  for (const name of ['telegram', 'discord'] as const) {
    it(`${name}: stopping while it waits for the network ends the start at once`, async () => {
      const log = collect();
      let platform: MessagingPlatform;
      if (name === 'telegram') {
        const fake = await startFakeTelegram();
        cleanups.push(() => fake.close());
        await fake.goOffline();
        platform = telegramOn(fake, log.logger);
      } else {
        const fake = await startFakeDiscord({ channelIds: [CHANNEL] });
        cleanups.push(() => fake.close());
        await fake.goOffline();
        platform = discordOn(fake, log.logger);
      }
      const started = platform.start(() => {});
      await vi.waitFor(
        () => expect(log.messages().some((msg) => msg.startsWith('cannot reach'))).toBe(true),
        WAIT,
      );
      await platform.stop();
      await expect(started).rejects.toThrow();
    });
  }
});

describe('starting both platforms over one engine', () => {
  it('one platform waiting for its network: the other serves tasks meanwhile, and a stop ends the wait quietly', async () => {
    const telegram = await startTelegramDriver();
    const discord = await startDiscordDriver();
    cleanups.push(() => telegram.close());
    cleanups.push(() => discord.close());
    await discord.fake.goOffline();
    const h = createHarness();
    cleanups.push(() => h.cleanup());
    const log = collect();
    const platforms = createPlatforms({
      config: bothPlatforms(telegram, discord)({ count: 20, windowMs: 1000 }),
      engine: h.engine,
      transcriber: {
        maxBytes: 1024,
        transcribe: async () => ({ ok: false, kind: 'disabled', message: 'voice notes are off' }),
      },
      voiceEnabled: false,
      proxyStats: () => ({ providers: [] }),
      logger: log.logger,
    });
    let settled: 'pending' | 'resolved' | 'rejected' = 'pending';
    const started = platforms.start().then(
      () => {
        settled = 'resolved';
      },
      () => {
        settled = 'rejected';
      },
    );
    await vi.waitFor(
      () => expect(log.messages().some((msg) => msg.startsWith('cannot reach Discord'))).toBe(true),
      WAIT,
    );
    // Telegram is up and serving although Discord is not.
    const user = telegram.send('a task while Discord is away');
    await vi.waitFor(
      () => expect(repliesTo(telegram, user).some((m) => m.text.includes('✅'))).toBe(true),
      WAIT,
    );
    expect(settled).toBe('pending');
    await platforms.stop();
    await started;
    expect(settled).toBe('resolved');
  });
});
