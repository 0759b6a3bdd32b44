import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { assertAnthropicStream, parseAnthropicSse } from '../../src/proxy/index.js';
import { textReply, toolCallReply } from '../fakes/openai-upstream.js';
import { type Rig, startRig } from './harness.js';

// The HTTP surface without the CLI: errors are Anthropic-shaped, JSON answers use the same translation.

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const body = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: 'claude-sonnet-5-5',
    max_tokens: 100,
    messages: [{ role: 'user', content: 'hi' }],
    ...extra,
  });

describe('proxy HTTP surface', () => {
  it('answers the probes, health, models and count_tokens', async () => {
    rig = await startRig(() => textReply('x'), { PROXY_AUTH_TOKEN: 'secret-token' });
    const url = rig.proxy.url;
    expect((await fetch(`${url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${url}/`, { method: 'HEAD' })).status).toBe(200);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
    const auth = { 'x-api-key': 'secret-token' };
    expect(await (await fetch(`${url}/v1/models`, { headers: auth })).json()).toMatchObject({
      data: [{ id: 'openai/fake-model' }],
    });
    const count = await fetch(`${url}/v1/messages/count_tokens?beta=true`, {
      method: 'POST',
      headers: auth,
      body: body(),
    });
    expect(await count.json()).toEqual({ input_tokens: expect.any(Number) });
  });

  it('refuses a wrong token, malformed JSON, a huge body and unknown routes with Anthropic errors', async () => {
    rig = await startRig(() => textReply('x'), {
      PROXY_AUTH_TOKEN: 'secret-token',
      PROXY_MAX_BODY_BYTES: '2048',
    });
    const url = `${rig.proxy.url}/v1/messages`;
    const wrong = await fetch(url, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
      body: body(),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const headers = { authorization: 'Bearer secret-token' };
    const bad = await fetch(url, { method: 'POST', headers, body: '{"model":' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const huge = await fetch(url, { method: 'POST', headers, body: body({ pad: 'x'.repeat(5000) }) });
    expect(huge.status).toBe(413);
    expect((await fetch(`${rig.proxy.url}/nope`, { headers })).status).toBe(404);
    expect(rig.upstream.requests).toHaveLength(0);
  });

  it('without PROXY_AUTH_TOKEN: a web page of another site or a rebound name gets a 403 and reaches no provider; a local caller is answered', async () => {
    rig = await startRig(() => textReply('from the provider'));
    const { url, port } = { url: rig.proxy.url, port: new URL(rig.proxy.url).port };
    const post = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          new URL(`${url}/v1/messages`),
          { method: 'POST', headers: { 'content-type': 'text/plain', ...headers } },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => {
              text += chunk.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body());
      });
    const crossSite = await post({ origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(crossSite.body)).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    expect((await post({ host: `attacker.example:${port}` })).status).toBe(403);
    expect(rig.upstream.requests).toHaveLength(0);
    const local = await post({ origin: `http://127.0.0.1:${port}` });
    expect(local.status).toBe(200);
    expect(local.body).toContain('from the provider');
    expect((await post({})).status).toBe(200);
  });

  it('with PROXY_AUTH_TOKEN the token decides, whatever the Origin', async () => {
    rig = await startRig(() => textReply('with a token'), { PROXY_AUTH_TOKEN: 'secret-token' });
    const answer = await fetch(`${rig.proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'secret-token', origin: 'https://app.example' },
      body: body(),
    });
    expect(answer.status).toBe(200);
  });

  it('answers stream:false with one JSON message built by the same translation (Agent forced foreground)', async () => {
    rig = await startRig(() =>
      toolCallReply([{ name: 'Agent', arguments: { prompt: 'go', run_in_background: true } }]),
    );
    const res = await fetch(`${rig.proxy.url}/v1/messages`, {
      method: 'POST',
      body: body({ stream: false }),
    });
    expect(await res.json()).toMatchObject({
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 'Agent', input: { prompt: 'go', run_in_background: false } }],
    });
  });

  it('streams SSE with event lines that satisfy the contract, and fails fast with 400 on an upstream 400', async () => {
    rig = await startRig((req) =>
      req.index === 0
        ? textReply('streamed', { reasoning: 'r' })
        : { kind: 'error', status: 400, body: { error: { message: 'bad tool schema' } } },
    );
    const ok = await fetch(`${rig.proxy.url}/v1/messages?beta=true`, {
      method: 'POST',
      body: body({ stream: true }),
    });
    assertAnthropicStream(parseAnthropicSse(await ok.text()));
    const failed = await fetch(`${rig.proxy.url}/v1/messages`, {
      method: 'POST',
      body: body({ stream: true }),
    });
    expect(failed.status).toBe(400);
    expect(await failed.json()).toMatchObject({
      error: { message: expect.stringContaining('bad tool schema') },
    });
  });
});
