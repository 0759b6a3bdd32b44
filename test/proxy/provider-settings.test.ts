import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { PROVIDERS } from '../../src/providers.js';
import { toOpenAiRequest } from '../../src/proxy/request-to-openai.js';

// Per-provider request settings: NVIDIA NIM gets what free-claude-code sends it, and a `NIM` JSON block
// (free-claude-code's) overrides those defaults, checked field by field at start.

const cwd = '/srv/relay';
const request = {
  model: 'claude-sonnet-4-5',
  max_tokens: 64_000,
  messages: [{ role: 'user', content: 'hi' }],
};

function nimBody(env: Record<string, string>, overrides: Record<string, unknown> = {}) {
  const settings = loadConfig(env, cwd).proxy.providers.nvidia_nim;
  return toOpenAiRequest(
    { ...request, ...overrides },
    {
      provider: PROVIDERS.nvidia_nim,
      model: 'moonshotai/kimi-k2-instruct',
      stream: true,
      fields: settings.requestFields,
    },
  ).body;
}

function nimError(value: string): string {
  try {
    loadConfig({ NIM: value }, cwd);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('NVIDIA NIM request settings', () => {
  it('sends sampling at 1.0, parallel calls and high reasoning unless the request says otherwise', () => {
    expect(nimBody({})).toMatchObject({
      temperature: 1,
      top_p: 1,
      parallel_tool_calls: true,
      reasoning_effort: 'high',
      include_reasoning: true,
      max_tokens: PROVIDERS.nvidia_nim.maxOutputTokens,
    });
    expect(nimBody({}, { temperature: 0.2 })).toMatchObject({ temperature: 0.2, top_p: 1 });
  });

  it('NIM={…} overrides the defaults, and its max_tokens moves the ceiling', () => {
    const body = nimBody({
      NIM: '{"temperature":0.6,"reasoning_effort":"low","max_tokens":81920,"top_k":40}',
    });
    expect(body).toMatchObject({ temperature: 0.6, reasoning_effort: 'low', top_k: 40, max_tokens: 64_000 });
    expect(nimBody({ NIM: '{"max_tokens":4096}' }).max_tokens).toBe(4096);
  });

  it('other providers get none of it', () => {
    const settings = loadConfig({ NIM: '{"temperature":0.6}' }, cwd).proxy.providers.open_router;
    const body = toOpenAiRequest(request, {
      provider: PROVIDERS.open_router,
      model: 'm',
      stream: true,
      fields: settings.requestFields,
    }).body;
    expect(body).not.toHaveProperty('temperature');
    expect(body).not.toHaveProperty('reasoning_effort');
  });

  it('a bad NIM block stops the start with one line saying what is wrong', () => {
    expect(nimError('temperature=0.6')).toBe(
      `NIM: must be a JSON object such as {"temperature":0.6}, got 'temperature=0.6'`,
    );
    expect(nimError('[1]')).toMatch(/^NIM: must be a JSON object/);
    expect(nimError('{"temprature":0.6}')).toMatch(
      /^NIM: has no field 'temprature' \(allowed: temperature, top_p, /,
    );
    expect(nimError('{"top_p":1.5}')).toBe('NIM: top_p must be a number from 0 to 1, got 1.5');
    expect(nimError('{"max_tokens":10.5}')).toBe('NIM: max_tokens must be a whole number, got 10.5');
    expect(nimError('{"reasoning_effort":"max"}')).toBe(
      'NIM: reasoning_effort must be one of low, medium, high, got "max"',
    );
    expect(nimError('{"include_reasoning":"yes"}')).toBe(
      'NIM: include_reasoning must be true or false, got "yes"',
    );
  });
});
