import { afterAll, describe } from 'vitest';
import { configured, telegramModule } from '../../platforms/index.js';
import { type FakeTelegram, startFakeTelegram, TELEGRAM_MAX_LENGTH } from '../fakes/telegram-api.js';
import { relayScenarios } from './relay-scenarios.js';

// The relay end to end on Telegram: real engine + real CLI + embedded proxy + scripted upstream + fake Bot API.

const USER = 5150;
const STRANGER = 9999;

describe('relay on Telegram (e2e)', () => {
  let fake: FakeTelegram | undefined;
  let scripted = 0;
  // Registered first so it runs last (after hooks run in reverse): the fake outlives the relay.
  afterAll(async () => {
    await fake?.close();
  });
  relayScenarios(async () => {
    const tg = await startFakeTelegram();
    fake = tg;
    const ogg = new Uint8Array([0x4f, 0x67, 0x67, 0x53, 0, 2, 0, 0]);
    return {
      maxLength: TELEGRAM_MAX_LENGTH,
      messaging: (rate) => ({
        platforms: ['telegram'],
        configured: [
          configured(telegramModule, {
            token: tg.token,
            allowedUserIds: [String(USER)],
            apiRoot: tg.apiRoot,
          }),
        ],
        rateLimit: rate,
      }),
      send: (text, replyTo) =>
        String(
          tg.sendUserMessage({ userId: USER, text, ...(replyTo ? { replyTo: Number(replyTo) } : {}) })
            .messageId,
        ),
      sendAsStranger: (text) => {
        tg.sendUserMessage({ userId: STRANGER, text });
      },
      sendVoice: (options = {}) =>
        String(
          tg.sendUserMessage({
            userId: USER,
            voice: { data: ogg, ...(options.declaredSize ? { declaredSize: options.declaredSize } : {}) },
            ...(options.replyTo ? { replyTo: Number(options.replyTo) } : {}),
          }).messageId,
        ),
      sendFile: () =>
        String(
          tg.sendUserMessage({
            userId: USER,
            document: { data: new Uint8Array([1, 2, 3]), mimeType: 'application/pdf', fileName: 'notes.pdf' },
          }).messageId,
        ),
      messages: () =>
        tg.botMessages(USER).map((m) => ({
          id: String(m.messageId),
          replyTo: m.replyTo === null ? null : String(m.replyTo),
          texts: m.history,
          plain: m.parseModes.map((mode) => mode === null),
          deleted: m.deleted,
        })),
      strangerSawMessages: () => tg.botMessages(STRANGER).length,
      scriptRateLimit: (count) => {
        scripted += count;
        tg.failNext(
          'editMessageText',
          { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 },
          count,
        );
      },
      rejectFormatting: () => {
        tg.rejectParseMode(true);
        return { off: () => tg.rejectParseMode(false) };
      },
      typingCalls: () => tg.callsOf('sendChatAction').length,
      rateLimitedResponses: () => scripted - tg.failuresLeft(),
    };
  });
});
