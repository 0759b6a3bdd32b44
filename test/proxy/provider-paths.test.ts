import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { OUTPUT_LIMITS, PROVIDERS } from '../../src/providers.js';
import {
  assertAnthropicStream,
  parseAnthropicSse,
  type RunningProxy,
  startProxy,
} from '../../src/proxy/index.js';
import { toOpenAiRequest } from '../../src/proxy/request-to-openai.js';
import { stripSchemaKeywords } from '../../src/proxy/tool-schema.js';
import { textReply } from '../fakes/openai-upstream.js';
import {
  anthropicTextEvents,
  type FakeAnthropicUpstream,
  sseFrame,
  startFakeAnthropicUpstream,
} from '../fakes/upstream-anthropic.js';
import { startDeafUpstream } from '../fakes/upstream-deaf.js';
import { type Rig, startRig } from './harness.js';

// Paths beyond plain translation: pings while the provider is silent, the `anthropic` pass-through provider,
// HTTP_WRITE_TIMEOUT, `max_tokens` ceilings and schema keywords.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const message = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: 'claude-sonnet-5',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'hi' }],
    ...extra,
  });

async function rig(...args: Parameters<typeof startRig>): Promise<Rig> {
  const started = await startRig(...args);
  cleanups.push(started.close);
  return started;
}

describe('pings', () => {
  it('keeps the stream alive with ping events while the provider is silent, then finishes the answer', async () => {
    let resume = () => {};
    const until = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const reply = textReply('after the silence', { chunkSize: 100 });
    if (reply.kind !== 'stream') throw new Error('textReply streams');
    const { proxy } = await rig(() => ({ ...reply, pause: { after: 1, until } }), {}, { pingIntervalMs: 20 });
    const res = await fetch(`${proxy.url}/v1/messages`, { method: 'POST', body: message({ stream: true }) });
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let text = '';
    // Read until the proxy has sent a ping of its own; only then does the provider go on.
    while (!text.includes('event: ping')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before any ping: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    resume();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const events = parseAnthropicSse(text);
    assertAnthropicStream(events);
    const types = events.map((event) => event.type);
    expect(types.indexOf('ping')).toBeLessThan(types.indexOf('content_block_delta'));
    expect(text).toContain('after the silence');
  });
});

describe('anthropic pass-through provider', () => {
  async function passRig(script: Parameters<typeof startFakeAnthropicUpstream>[0]) {
    const upstream: FakeAnthropicUpstream = await startFakeAnthropicUpstream(script);
    const config = loadConfig(
      {
        PORT: '0',
        PROVIDER_TYPE: 'anthropic',
        ANTHROPIC_UPSTREAM_URL: upstream.url,
        ANTHROPIC_UPSTREAM_KEY: 'sk-upstream-secret',
        MODEL: 'upstream-model',
      },
      tmpdir(),
    ).proxy;
    const logs: string[] = [];
    const proxy: RunningProxy = await startProxy({
      config,
      logger: createLogger('info', ['sk-upstream-secret'], { write: (line) => logs.push(line) }),
    });
    cleanups.push(upstream.close, proxy.close);
    return { upstream, proxy, logs };
  }

  it('forwards the request with the routed model and its own key, and the stream back byte for byte', async () => {
    const events = anthropicTextEvents('passed through');
    const { upstream, proxy, logs } = await passRig(() => ({ kind: 'sse', events }));
    const res = await fetch(`${proxy.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'x-api-key': 'client-key-not-forwarded' },
      body: message({ stream: true, thinking: { type: 'adaptive' }, max_tokens: 128_000 }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(events.map(sseFrame).join(''));
    const sent = upstream.requests[0];
    expect(sent?.headers['x-api-key']).toBe('sk-upstream-secret');
    expect(sent?.headers['anthropic-version']).toBe('2023-06-01');
    // Unchanged except the model: thinking and the CLI's max_tokens go through as the CLI sent them.
    expect(sent?.body).toMatchObject({
      model: 'upstream-model',
      max_tokens: 128_000,
      thinking: { type: 'adaptive' },
    });
    expect(proxy.stats().providers).toEqual([
      expect.objectContaining({ provider: 'anthropic', requests: 1, errors: 0 }),
    ]);
    expect(logs.join('\n')).not.toContain('sk-upstream-secret');
  });

  it('passes a JSON answer through and retries a 429 itself', async () => {
    const answer = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'json' }],
    };
    const { proxy } = await passRig((req) =>
      req.index === 0
        ? { kind: 'error', status: 429, headers: { 'retry-after': '0' } }
        : { kind: 'json', body: answer },
    );
    const res = await fetch(`${proxy.url}/v1/messages`, { method: 'POST', body: message() });
    expect(await res.json()).toEqual(answer);
    expect(proxy.stats().providers[0]).toMatchObject({ requests: 1, rateLimited: 1, errors: 0 });
  });

  it('turns an upstream 400 into an Anthropic error with its message, and counts it', async () => {
    const { proxy } = await passRig(() => ({
      kind: 'error',
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long' } },
    }));
    const res = await fetch(`${proxy.url}/v1/messages`, { method: 'POST', body: message({ stream: true }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('prompt is too long') },
    });
    expect(proxy.stats().providers[0]).toMatchObject({ errors: 1 });
  });

  it('drops the client connection when the upstream stream breaks, so the CLI retries', async () => {
    const { proxy } = await passRig(() => ({
      kind: 'sse',
      events: anthropicTextEvents('cut'),
      breakAfter: 2,
    }));
    const res = await fetch(`${proxy.url}/v1/messages`, { method: 'POST', body: message({ stream: true }) });
    await expect(res.text()).rejects.toThrow();
    expect(proxy.stats().providers[0]).toMatchObject({ errors: 1 });
  });
});

describe('HTTP_WRITE_TIMEOUT', () => {
  it('gives up on a provider that stops taking the request body, with a 529 the CLI retries', async () => {
    const deaf = await startDeafUpstream();
    cleanups.push(deaf.close);
    const config = loadConfig(
      {
        PORT: '0',
        PROVIDER_TYPE: 'openai',
        OPENAI_BASE_URL: deaf.url,
        MODEL: 'm',
        HTTP_WRITE_TIMEOUT: '0.3',
        HTTP_READ_TIMEOUT: '600',
      },
      tmpdir(),
    ).proxy;
    const proxy = await startProxy({ config, logger: createLogger('silent', []) });
    cleanups.push(proxy.close);
    // Larger than loopback socket buffers can hold, so the provider's refusal to read stalls the write.
    const huge = message({ messages: [{ role: 'user', content: 'x'.repeat(24 * 1024 * 1024) }] });
    const res = await fetch(`${proxy.url}/v1/messages`, { method: 'POST', body: huge });
    expect(res.status).toBe(529);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: expect.stringContaining('HTTP_WRITE_TIMEOUT') },
    });
    expect(deaf.connections).toBe(1);
  }, 30_000);
});

describe('request details', () => {
  it('refuses a body nested deeper than the limit with a 400 (regression: it overflowed the stack, 500)', async () => {
    const { proxy, upstream } = await rig(() => textReply('never'));
    const deep = `${'{"d":['.repeat(3000)}0${']}'.repeat(3000)}`;
    const res = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      body: `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"name":"T","input_schema":${deep}}]}`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { message: expect.stringContaining('nested deeper than 256') },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('clamps max_tokens to each provider ceiling of the documented table', () => {
    for (const id of ['nvidia_nim', 'open_router', 'lmstudio', 'openai'] as const) {
      const request = { model: 'x', max_tokens: 128_000, messages: [{ role: 'user', content: 'hi' }] };
      const { body } = toOpenAiRequest(request, { provider: PROVIDERS[id], model: 'm', stream: true });
      expect(body.max_tokens).toBe(OUTPUT_LIMITS[id]);
    }
  });

  it('keeps a removed `const` as a one-value enum, and leaves properties named like keywords alone', () => {
    const schema = {
      type: 'object',
      properties: {
        mode: { const: 'fast', description: 'only fast' },
        kind: { const: 'a', enum: ['a'] },
        const: { type: 'string', format: 'uri' },
      },
    };
    expect(stripSchemaKeywords(schema, PROVIDERS.nvidia_nim.schemaKeywordsToStrip)).toEqual({
      type: 'object',
      properties: {
        mode: { enum: ['fast'], description: 'only fast' },
        kind: { enum: ['a'] },
        const: { type: 'string' },
      },
    });
  });
});
