import { describe, expect, it } from 'vitest';
import { allowedOutput, parseOutputCeiling } from '../../src/proxy/output-ceiling.js';

// Each wording as the provider sends it, behind the proxy's own prefix (errors.ts), as the retry sees it.
const said = (detail: string) => `openai rejected the request (HTTP 400): ${detail}`;

describe('the largest max_tokens a provider names when it refuses one', () => {
  it('DeepSeek: the valid range', () => {
    const ceiling = parseOutputCeiling(
      said('Invalid max_tokens value, the valid range of max_tokens is [1, 8192]'),
    );
    expect(ceiling).toEqual({ kind: 'model', maxTokens: 8192 });
  });

  it('OpenAI: the completion tokens the model supports', () => {
    const ceiling = parseOutputCeiling(
      said(
        'max_tokens is too large: 32000. This model supports at most 16384 completion tokens, whereas you provided 32000.',
      ),
    );
    expect(ceiling).toEqual({ kind: 'model', maxTokens: 16384 });
  });

  it('Groq: each of its three forms', () => {
    for (const [detail, tokens] of [
      ['`max_tokens` must be less than or equal to `16384`, the maximum value for `max_tokens` is …', 16384],
      ['max_tokens for `llama-3.1-8b-instant` must be less than or equal to 8000', 8000],
      ['max_completion_tokens must be less than or equal to 40960, the maximum value for …', 40960],
    ] as const) {
      expect(parseOutputCeiling(said(detail))).toEqual({ kind: 'model', maxTokens: tokens });
    }
  });

  it('vLLM: the context length less this request’s input', () => {
    const ceiling = parseOutputCeiling(
      said(
        "'max_tokens' or 'max_completion_tokens' is too large: 32000. This model's maximum context length is 32768 tokens and your request has 9000 input tokens (32000 > 32768 - 9000).",
      ),
    );
    expect(ceiling).toEqual({ kind: 'context', contextTokens: 32768, inputTokens: 9000 });
    expect(ceiling && allowedOutput(ceiling)).toBe(23768);
  });

  it('OpenAI and older vLLM: the context length and the tokens in the messages', () => {
    const ceiling = parseOutputCeiling(
      said(
        "This model's maximum context length is 8192 tokens. However, you requested 41000 tokens (9000 in the messages, 32000 in the completion). Please reduce the length of the messages or completion.",
      ),
    );
    expect(ceiling).toEqual({ kind: 'context', contextTokens: 8192, inputTokens: 9000 });
    // The input alone fills the context: no max_tokens helps.
    expect(ceiling && allowedOutput(ceiling)).toBeLessThan(1);
  });

  it('Text Generation Inference: inputs plus max_new_tokens', () => {
    const ceiling = parseOutputCeiling(
      said(
        'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 32768. Given: 6204 `inputs` tokens and 32000 `max_new_tokens`',
      ),
    );
    expect(ceiling).toEqual({ kind: 'context', contextTokens: 32768, inputTokens: 6204 });
  });

  it('other refusals name no ceiling', () => {
    for (const detail of [
      'max_tokens must be an integer',
      'Image input is not supported for this model',
      "This model's maximum context length is 32768 tokens. However, your request has 40000 input tokens.",
      'reasoning_content must be passed back',
    ]) {
      expect(parseOutputCeiling(said(detail))).toBeNull();
    }
  });
});
