import { afterAll, describe } from 'vitest';
import { configured, discordModule } from '../../platforms/index.js';
import { DISCORD_MAX_LENGTH, type FakeDiscord, startFakeDiscord } from '../fakes/discord-api.js';
import { relayScenarios } from './relay-scenarios.js';

// The relay end to end on Discord: real engine + real CLI + embedded proxy + scripted upstream + fake Discord.

const CHANNEL = '300000000000000001';
const STRANGER_CHANNEL = '300000000000000002';
const USER = '400000000000000001';

describe('relay on Discord (e2e)', () => {
  let fake: FakeDiscord | undefined;
  let scripted = 0;
  // Registered first so it runs last (after hooks run in reverse): the fake outlives the relay.
  afterAll(async () => {
    await fake?.close();
  });
  relayScenarios(async () => {
    const dc = await startFakeDiscord({ channelIds: [CHANNEL, STRANGER_CHANNEL] });
    fake = dc;
    const ogg = new Uint8Array([0x4f, 0x67, 0x67, 0x53, 0, 2, 0, 0]);
    return {
      maxLength: DISCORD_MAX_LENGTH,
      messaging: (rate) => ({
        platforms: ['discord'],
        configured: [
          configured(discordModule, {
            token: 'fake-bot-token',
            allowedChannels: [CHANNEL],
            allowedUsers: [USER],
            apiBase: dc.apiBase,
          }),
        ],
        rateLimit: rate,
      }),
      send: (text, replyTo) =>
        dc.postUserMessage({
          channelId: CHANNEL,
          userId: USER,
          content: text,
          ...(replyTo ? { replyTo } : {}),
        }).messageId,
      sendAsStranger: (text) => {
        dc.postUserMessage({ channelId: CHANNEL, userId: '400000000000000009', content: text });
        dc.postUserMessage({ channelId: STRANGER_CHANNEL, userId: USER, content: text });
      },
      sendVoice: (options = {}) =>
        dc.postUserMessage({
          channelId: CHANNEL,
          userId: USER,
          voice: { data: ogg, ...(options.declaredSize ? { declaredSize: options.declaredSize } : {}) },
          ...(options.replyTo ? { replyTo: options.replyTo } : {}),
        }).messageId,
      sendFile: () =>
        dc.postUserMessage({
          channelId: CHANNEL,
          userId: USER,
          attachment: {
            data: new Uint8Array([1, 2, 3]),
            contentType: 'application/pdf',
            fileName: 'notes.pdf',
          },
        }).messageId,
      messages: () =>
        dc.botMessages(CHANNEL).map((m) => ({
          id: m.messageId,
          replyTo: m.replyTo,
          texts: m.history,
          plain: m.history.map(() => null),
          deleted: m.deleted,
        })),
      strangerSawMessages: () => dc.botMessages(STRANGER_CHANNEL).length,
      scriptRateLimit: (count) => {
        scripted += count;
        dc.rateLimit(/^PATCH \/channels\/\d+\/messages\/\d+$/, 1, count);
      },
      rejectFormatting: () => {
        // Discord itself never refuses markdown; the fake refuses text with markup, as a stricter service would.
        dc.rejectContent(/\*\*|`/);
        return { off: () => dc.rejectContent(null) };
      },
      typingCalls: () => dc.callsMatching(/^POST \/channels\/\d+\/typing$/).length,
      rateLimitedResponses: () => scripted - dc.failuresLeft(),
    };
  });
});
