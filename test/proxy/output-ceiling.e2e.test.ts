import { afterEach, describe, expect, it } from 'vitest';
import { type Script, textReply } from '../fakes/openai-upstream.js';
import { NEWER_CLI_VERSION, OLDER_CLI_VERSION, testedClis } from './cli-install.js';
import { type Rig, runClaude, startRig } from './harness.js';

// A model whose output ceiling is below the provider table's (32000 for `openai`) refuses the CLI's max_tokens
// with a 400 naming its limit; the proxy sends the request again within it, and remembers a model's own ceiling.

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const maxTokensOf = (body: unknown): unknown =>
  typeof body === 'object' && body !== null && 'max_tokens' in body ? body.max_tokens : undefined;

/** DeepSeek: at most 8192, refused in its own words. */
const deepSeek: Script = (req) =>
  Number(maxTokensOf(req.body)) > 8192
    ? {
        kind: 'error',
        status: 400,
        body: {
          error: {
            message: 'Invalid max_tokens value, the valid range of max_tokens is [1, 8192]',
            type: 'invalid_request_error',
          },
        },
      }
    : textReply(`Answered within ${String(maxTokensOf(req.body))}.`);

/** vLLM serving a 32768-token context, counting 9000 tokens of input in every request. */
const vllm: Script = (req) => {
  const asked = Number(maxTokensOf(req.body));
  return asked > 32768 - 9000
    ? {
        kind: 'error',
        status: 400,
        body: {
          object: 'error',
          message: `'max_tokens' or 'max_completion_tokens' is too large: ${asked}. This model's maximum context length is 32768 tokens and your request has 9000 input tokens (${asked} > 32768 - 9000).`,
          type: 'BadRequestError',
        },
      }
    : textReply(`Answered within ${asked}.`);
};

for (const cli of testedClis([OLDER_CLI_VERSION, NEWER_CLI_VERSION]))
  describe(`a model with a lower output ceiling (CLI ${cli.name})`, () => {
    it('DeepSeek refusing max_tokens above 8192: the answer arrives, and the next task asks for 8192 at once', async (context) => {
      const bin = cli.bin();
      if (bin === null) return context.skip();
      rig = await startRig(deepSeek);
      const first = await runClaude(rig.proxy.url, 'say hello', {}, bin);
      expect(first.isError).toBe(false);
      expect(first.result).toBe('Answered within 8192.');
      // The CLI's ask, clamped to the table's 32000, refused; then the same request within the model's limit.
      expect(rig.upstream.requests.map((r) => maxTokensOf(r.body))).toEqual([32_000, 8192]);

      const seen = rig.upstream.requests.length;
      const second = await runClaude(rig.proxy.url, 'say hello again', {}, bin);
      expect(second.result).toBe('Answered within 8192.');
      expect(rig.upstream.requests.slice(seen).map((r) => maxTokensOf(r.body))).toEqual([8192]);
    });

    it('vLLM refusing for its context: each request goes again with what its own input leaves', async (context) => {
      const bin = cli.bin();
      if (bin === null) return context.skip();
      rig = await startRig(vllm);
      for (const prompt of ['say hello', 'say hello again']) {
        const seen = rig.upstream.requests.length;
        const result = await runClaude(rig.proxy.url, prompt, {}, bin);
        expect(result.result).toBe('Answered within 23768.');
        // Not remembered: the room left depends on each request's input, which only the provider counts.
        expect(rig.upstream.requests.slice(seen).map((r) => maxTokensOf(r.body))).toEqual([32_000, 23_768]);
      }
    });

    it('MODEL_MAX_OUTPUT_TOKENS set up front: the first request already asks within it', async (context) => {
      const bin = cli.bin();
      if (bin === null) return context.skip();
      rig = await startRig(deepSeek, { MODEL_MAX_OUTPUT_TOKENS: '8000' });
      const result = await runClaude(rig.proxy.url, 'say hello', {}, bin);
      expect(result.result).toBe('Answered within 8000.');
      expect(rig.upstream.requests.map((r) => maxTokensOf(r.body))).toEqual([8000]);
    });
  });
