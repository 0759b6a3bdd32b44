import { describe, expect, it } from 'vitest';
import { anthropicMessages } from '../../src/gateway/anthropic-messages.js';
import type { Answer } from '../../src/gateway/api.js';
import { openAiChat } from '../../src/gateway/openai-chat.js';
import { openAiResponses } from '../../src/gateway/openai-responses.js';

// How each API tells an answer cut short by the run's turn limit (the e2e test drives /chat and Messages through
// the real CLI; these pin the OpenAI shapes that only GATEWAY_MAX_TURNS reaches).

const cut: Answer = {
  id: 'resp_abc',
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
