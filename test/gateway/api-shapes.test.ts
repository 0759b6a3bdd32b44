import { describe, expect, it } from 'vitest';
import { anthropicMessages } from '../../src/gateway/anthropic-messages.js';
import { type Answer, contentOf } from '../../src/gateway/api.js';
import { openAiChat } from '../../src/gateway/openai-chat.js';
import { openAiResponses } from '../../src/gateway/openai-responses.js';

// How each API tells an answer cut short by the run's turn limit (the e2e test drives /chat and Messages through
// the real CLI; these pin the OpenAI shapes that only GATEWAY_MAX_TURNS reaches).

const cut: Answer = {
  id: 'resp_abc',
  createdAt: 1_760_000_000,
  model: 'sonnet',
  text: '',
  narration: 'I will write the note first.',
  usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0 },
  stopReason: 'max_turns',
  sessionId: 'tree-1',
};

describe('an answer cut at the turn limit', () => {
  it('is finish_reason length in chat completions, stop in a whole answer', () => {
    expect(openAiChat.answer(cut)).toMatchObject({ choices: [{ finish_reason: 'length' }] });
    expect(openAiChat.answer({ ...cut, stopReason: 'end_turn' })).toMatchObject({
      choices: [{ finish_reason: 'stop' }],
    });
  });

  it('is an incomplete response in the Responses API, its message incomplete too', () => {
    expect(openAiResponses.answer(cut)).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output: [{ type: 'reasoning' }, { type: 'message', status: 'incomplete' }],
    });
    expect(openAiResponses.answer({ ...cut, stopReason: 'end_turn' })).toMatchObject({
      status: 'completed',
      incomplete_details: null,
    });
  });

  it('is stop_reason max_tokens in Anthropic messages', () => {
    expect(anthropicMessages.answer(cut)).toMatchObject({ stop_reason: 'max_tokens' });
  });
});

describe('images in content', () => {
  const png =
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

  it('takes a data: URL or base64 block whose bytes are the image it says, image/jpg as jpeg', () => {
    expect(contentOf([{ type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }])).toEqual({
      ok: true,
      text: '',
      images: [{ mediaType: 'image/png', data: png }],
    });
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]).toString(
      'base64',
    );
    expect(contentOf([{ type: 'input_image', image_url: `data:image/jpg;base64,${jpeg}` }])).toMatchObject({
      ok: true,
      images: [{ mediaType: 'image/jpeg' }],
    });
  });

  it('refuses, naming why: a URL to fetch, a label the bytes contradict, data that is not base64', () => {
    const refused = (part: object) => {
      const result = contentOf([part]);
      return result.ok ? null : result.reason;
    };
    expect(refused({ type: 'image_url', image_url: { url: 'https://x/cat.png' } })).toMatch(/data: URL/);
    expect(refused({ type: 'image', source: { type: 'base64', media_type: 'image/webp', data: png } })).toBe(
      'an image labelled "image/webp" is not one',
    );
    expect(refused({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'abc' } })).toBe(
      "an image's data is not base64",
    );
    expect(refused({ type: 'image', source: { type: 'url', url: 'https://x' } })).toMatch(/base64 data/);
  });
});
