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
      userFields: settings.userFields,
    },
  ).body;
}

function openRouterBody(overrides: Record<string, unknown>) {
  return toOpenAiRequest(
    { ...request, ...overrides },
    { provider: PROVIDERS.open_router, model: 'm', stream: true },
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

describe("reasoning effort from the CLI's thinking settings", () => {
  // What the CLIs send (shared/reference/claude-cli-*/full/main-turn-*.json).
  const cli330 = { thinking: { type: 'adaptive', display: 'updates' }, output_config: { effort: 'medium' } };
  const cli197 = { thinking: { type: 'adaptive' }, output_config: { effort: 'high' } };
  const budget = (tokens: number) => ({ thinking: { type: 'enabled', budget_tokens: tokens } });

  it("NIM gets the CLI's effort instead of its default high", () => {
    expect(nimBody({}, cli330).reasoning_effort).toBe('medium');
    expect(nimBody({}, cli197).reasoning_effort).toBe('high');
    expect(nimBody({}, { ...cli330, output_config: { effort: 'low' } }).reasoning_effort).toBe('low');
    // Anthropic's levels above high are high.
    expect(nimBody({}, { ...cli330, output_config: { effort: 'max' } }).reasoning_effort).toBe('high');
  });

  it('a thinking budget maps to low up to 4000 tokens, medium up to 10000, high above', () => {
    expect(nimBody({}, budget(1024)).reasoning_effort).toBe('low');
    expect(nimBody({}, budget(4000)).reasoning_effort).toBe('low');
    expect(nimBody({}, budget(10_000)).reasoning_effort).toBe('medium');
    expect(nimBody({}, budget(31_999)).reasoning_effort).toBe('high');
  });

  it('a reasoning_effort in the NIM settings wins over the CLI', () => {
    expect(nimBody({ NIM: '{"reasoning_effort":"high"}' }, cli330).reasoning_effort).toBe('high');
    expect(nimBody({ NIM: '{"reasoning_effort":"low"}' }, budget(31_999)).reasoning_effort).toBe('low');
  });

  it('thinking off or no word on effort keeps the provider default', () => {
    expect(nimBody({}, { thinking: { type: 'disabled' }, output_config: { effort: 'low' } })).toMatchObject({
      reasoning_effort: 'high',
      chat_template_kwargs: { thinking: false },
    });
    expect(nimBody({}, { thinking: { type: 'adaptive' } }).reasoning_effort).toBe('high');
  });

  it('OpenRouter gets it as reasoning.effort; providers without an effort field get none', () => {
    expect(openRouterBody(cli330).reasoning).toEqual({ enabled: true, effort: 'medium' });
    expect(openRouterBody({ thinking: { type: 'disabled' } }).reasoning).toEqual({ enabled: false });
    const generic = toOpenAiRequest(
      { ...request, ...cli330 },
      { provider: PROVIDERS.openai, model: 'm', stream: true },
    );
    expect(generic.body).not.toHaveProperty('reasoning_effort');
    expect(generic.body).not.toHaveProperty('reasoning');
  });
});
