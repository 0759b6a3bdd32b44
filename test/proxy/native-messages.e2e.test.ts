import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { type RunningProxy, startProxy } from '../../src/proxy/index.js';
import {
  anthropicTextEvents,
  type FakeAnthropicUpstream,
  startFakeAnthropicUpstream,
} from '../fakes/upstream-anthropic.js';
import { runClaude } from './harness.js';

// LM Studio and llama.cpp reached through their own Messages API (LM_STUDIO_API / LLAMACPP_API=messages), as
// free-claude-code does: the real CLI's request goes to the local server untranslated, the answer back as it came.

let upstream: FakeAnthropicUpstream | undefined;
let proxy: RunningProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await upstream?.close();
  proxy = undefined;
  upstream = undefined;
});

describe.each([
  { provider: 'lmstudio', base: 'LM_STUDIO_BASE_URL', switch: 'LM_STUDIO_API' },
  { provider: 'llamacpp', base: 'LLAMACPP_BASE_URL', switch: 'LLAMACPP_API' },
])('$provider through its own Messages API', ({ provider, base, switch: variable }) => {
  it('gets the CLI request untranslated at <base>/messages, with its model, and the CLI shows the answer', async () => {
    const local = await startFakeAnthropicUpstream(() => ({
      kind: 'sse',
      events: anthropicTextEvents('Hello from the local server.', 'local-model'),
    }));
    upstream = local;
    proxy = await startProxy({
      config: loadConfig(
        {
          PORT: '0',
          PROVIDER_TYPE: provider,
          [base]: `${local.url}/v1`,
          [variable]: 'messages',
          MODEL: 'qwen-local',
        },
        tmpdir(),
      ).proxy,
      logger: createLogger('silent', []),
    });
    const result = await runClaude(proxy.url, 'say hello');
    expect(result.result).toBe('Hello from the local server.');
    const main = local.requests.find((request) => JSON.stringify(request.body).includes('say hello'));
    expect(main?.path).toBe('/v1/messages');
    // Untranslated: Anthropic content blocks and tools, not OpenAI messages.
    expect(main?.body).toMatchObject({ model: 'qwen-local', stream: true });
    expect(JSON.stringify(main?.body)).toContain('"input_schema"');
  });
});

describe('choosing the route', () => {
  it('is the chat-completions route unless told otherwise; a wrong word is a start-up error naming the variable', () => {
    expect(loadConfig({}, tmpdir()).proxy.providers.lmstudio.protocol).toBe('openai-chat');
    expect(loadConfig({ LLAMACPP_API: 'messages' }, tmpdir()).proxy.providers.llamacpp.protocol).toBe(
      'anthropic-messages',
    );
    expect(() => loadConfig({ LM_STUDIO_API: 'native' }, tmpdir())).toThrow(
      "LM_STUDIO_API: must be one of chat, messages, got 'native'",
    );
  });
});
