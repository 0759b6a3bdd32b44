import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SessionEngine } from '../../sessions/index.js';
import { type GatewayConfig, loadConfig } from '../../src/config.js';
import { GATEWAY_PLATFORM, type RunningGateway, startGateway } from '../../src/gateway/index.js';
import { createLogger } from '../../src/log.js';
import {
  lastRole,
  lastUserText,
  messagesOf,
  startFakeUpstream,
  textReply,
  toolCallReply,
  toolResults,
  type UpstreamReply,
} from '../fakes/openai-upstream.js';
import { type E2eRig, startE2eRig } from '../sessions/e2e-rig.js';

// The API gateway as its users drive it: the official OpenAI and Anthropic SDKs → the gateway → the shared
// engine → the real `claude` CLI → the embedded proxy → a scripted provider.

const KEY = 'gw-test-key-0123456789';
/** A 1×1 PNG. */
const PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** The words of the user's own message (Claude Code adds reminders around it in the same turn). */
function said(body: unknown): string {
  return lastUserText(body).match(/SAY\(([^)]*)\)/)?.[1] ?? '';
}

/** The provider: a tool call on "write", a slow answer on "slow", else it repeats what the user said. */
function script(req: { body: unknown }): UpstreamReply {
  const text = said(req.body);
  if (lastRole(req.body) === 'tool')
    return textReply(`Wrote it. Results seen: ${toolResults(req.body).length}`);
  if (text.includes('write the note')) {
    return toolCallReply(
      [{ name: 'Write', arguments: { file_path: 'note.txt', content: 'from turn one\n' } }],
      {
        text: 'I will write the note first.',
      },
    );
  }
  if (text.includes('slow')) return textReply(`slow ${'word '.repeat(60)}`, { chunkSize: 4, delayMs: 40 });
  return textReply(`You said: ${text}`, { chunkSize: 5 });
}

let rig: E2eRig;
let engine: SessionEngine;
let gateway: RunningGateway;

function gatewayConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const base = loadConfig({ GATEWAY_PORT: '0', GATEWAY_API_KEYS: KEY }, rig.dir).gateway;
  if (base === undefined) throw new Error('gateway config missing');
  return { ...base, ...overrides };
}

beforeAll(async () => {
  rig = await startE2eRig(await startFakeUpstream(script));
  engine = rig.engine({ maxSessions: 2 });
  await engine.start();
  gateway = await startGateway({
    config: gatewayConfig(),
    host: '127.0.0.1',
    engine,
    logger: createLogger('silent', []),
  });
});
afterAll(async () => {
  await gateway?.close();
  await rig?.close();
});

const openai = () => new OpenAI({ apiKey: KEY, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: KEY, baseURL: gateway.url, maxRetries: 0 });

describe('OpenAI chat completions', () => {
  it('answers whole, with usage and the conversation id', async () => {
    const { data, response } = await openai()
      .chat.completions.create({
        model: 'claude-sonnet-4.5',
        messages: [{ role: 'user', content: 'SAY(hello there)' }],
      })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('You said: hello there');
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-session-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('streams the answer as deltas the SDK puts back together, usage last', async () => {
    const stream = await openai().chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'SAY(stream this)' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('You said: stream this');
    expect(usage).toMatchObject({ completion_tokens: expect.any(Number) });
  });

  it('a three-turn history re-sent by the client continues the same CLI session', async () => {
    const client = openai();
    const first = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'SAY(please write the note)' }],
    });
    const answer = first.choices[0]?.message.content ?? '';
    expect(answer).toBe('Wrote it. Results seen: 1');
    // The narration before the tool call is not the answer; it comes as reasoning.
    expect(first.choices[0]?.message).toMatchObject({ reasoning_content: 'I will write the note first.' });
    const seen = rig.upstream.requests.length;
    const second = await client.chat.completions.create({
      model: 'sonnet',
      messages: [
        { role: 'user', content: 'SAY(please write the note)' },
        { role: 'assistant', content: answer },
        { role: 'user', content: 'SAY(and now summarise)' },
      ],
    });
    expect(second.choices[0]?.message.content).toBe('You said: and now summarise');
    // Only the resumed session knows turn one's tool call and its result: the provider is shown them again.
    const asked = rig.upstream.requests
      .slice(seen)
      .find((req) => lastUserText(req.body).includes('summarise'));
    const history = JSON.stringify(messagesOf(asked?.body));
    expect(history).toContain('note.txt');
    expect(toolResults(asked?.body)).toHaveLength(1);
    // An edited second turn forks from the same answer: it sees turn one, not the other branch.
    const edited = await client.chat.completions.create({
      model: 'sonnet',
      messages: [
        { role: 'user', content: 'SAY(please write the note)' },
        { role: 'assistant', content: answer },
        { role: 'user', content: 'SAY(instead translate it)' },
      ],
    });
    expect(edited.choices[0]?.message.content).toBe('You said: instead translate it');
    const branch = rig.upstream.requests.find((req) => said(req.body).includes('translate'));
    expect(JSON.stringify(messagesOf(branch?.body))).toContain('note.txt');
    expect(JSON.stringify(messagesOf(branch?.body))).not.toContain('summarise');
  });

  it('refuses a tool_choice that forces a client tool, naming it', async () => {
    const error = await openai()
      .chat.completions.create({
        model: 'sonnet',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(String(error)).toContain('get_weather');
  });
});

describe('OpenAI Responses', () => {
  it('answers whole and streamed, and previous_response_id continues that conversation', async () => {
    const client = openai();
    const first = await client.responses.create({ model: 'sonnet', input: 'SAY(please write the note)' });
    expect(first.output_text).toBe('Wrote it. Results seen: 1');
    expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    const stream = client.responses.stream({
      model: 'sonnet',
      input: [{ role: 'user', content: 'SAY(and then summarise)' }],
      previous_response_id: first.id,
    });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const next = await stream.finalResponse();
    expect(next.output_text).toBe('You said: and then summarise');
    expect(deltas.join('')).toBe('You said: and then summarise');
    expect(next.usage?.output_tokens).toBeGreaterThan(0);
    // Only the resumed session holds turn one's tool call: the provider is shown it again.
    const asked = rig.upstream.requests.find((req) => said(req.body) === 'and then summarise');
    expect(toolResults(asked?.body)).toHaveLength(1);
    const unknown = await client.responses
      .create({ model: 'sonnet', input: 'SAY(x)', previous_response_id: 'resp_unknown' })
      .catch((thrown: unknown) => thrown);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    // Stored answers (the default) are read back by id, streamed ones too; `store: false` keeps nothing.
    expect(await client.responses.retrieve(first.id)).toMatchObject({ id: first.id, status: 'completed' });
    expect((await client.responses.retrieve(next.id)).output_text).toBe('You said: and then summarise');
    const unstored = await client.responses.create({
      model: 'sonnet',
      input: 'SAY(forget me)',
      store: false,
    });
    const notKept = await client.responses.retrieve(unstored.id).catch((thrown: unknown) => thrown);
    expect(notKept).toBeInstanceOf(OpenAI.NotFoundError);
    // Streamed, a tool-using turn's narration is a reasoning item before the message, its summary streamed too.
    const narratedStream = client.responses.stream({
      model: 'sonnet',
      input: 'SAY(write the note again)',
      instructions: 'be brief',
    });
    const summary: string[] = [];
    narratedStream.on('response.reasoning_summary_text.delta', (event) => summary.push(event.delta));
    const narrated = await narratedStream.finalResponse();
    expect(narrated.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(narrated.output[0]).toMatchObject({
      summary: [{ type: 'summary_text', text: 'I will write the note first.' }],
    });
    expect(summary.join('')).toBe('I will write the note first.');
    expect(narrated.output_text).toBe('Wrote it. Results seen: 1');
    // A client that keeps the history itself sends the answer's output back, reasoning item and all: the same
    // session goes on (the provider is shown that turn's tool call again).
    const again = await client.responses.create({
      model: 'sonnet',
      instructions: 'be brief',
      input: [
        { role: 'user', content: 'SAY(write the note again)' },
        // The SDK types output items wider than input items; the API takes an answer's items back as input.
        ...(narrated.output as unknown as OpenAI.Responses.ResponseInputItem[]),
        { role: 'user', content: 'SAY(what did you write)' },
      ],
    });
    expect(again.output_text).toBe('You said: what did you write');
    const resumed = rig.upstream.requests.find((req) => said(req.body) === 'what did you write');
    expect(toolResults(resumed?.body)).toHaveLength(1);
  });
});

describe('Anthropic messages', () => {
  it('answers whole and streamed, as the official SDK reads them', async () => {
    const client = anthropic();
    const whole = await client.messages.create({
      model: 'claude-opus-4-5-20251101',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'SAY(hi from anthropic)' }],
    });
    expect(whole.content).toEqual([{ type: 'text', text: 'You said: hi from anthropic' }]);
    const stream = client.messages.stream({
      model: 'claude-haiku',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'SAY(streamed from anthropic)' }],
    });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const message = await stream.finalMessage();
    expect(message.content.at(-1)).toMatchObject({ type: 'text', text: 'You said: streamed from anthropic' });
    expect(deltas.join('')).toBe('You said: streamed from anthropic');
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it('streams the narration of a tool-using turn as thinking, the answer as text', async () => {
    const message = await anthropic()
      .messages.stream({
        model: 'sonnet',
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'SAY(write the note now)' }],
      })
      .finalMessage();
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect(message.content[1]).toMatchObject({ text: 'Wrote it. Results seen: 1' });
    // The usual client sends the answer back whole, thinking block included: it continues that session.
    const next = await anthropic().messages.create({
      model: 'sonnet',
      max_tokens: 1024,
      messages: [
        { role: 'user', content: 'SAY(write the note now)' },
        { role: 'assistant', content: message.content },
        { role: 'user', content: 'SAY(what did you write)' },
      ],
    });
    expect(next.content).toEqual([{ type: 'text', text: 'You said: what did you write' }]);
    const asked = rig.upstream.requests.find((req) => said(req.body) === 'what did you write');
    expect(toolResults(asked?.body)).toHaveLength(1);
  });
});

describe('limits and errors', () => {
  it('a wrong key is a 401, a body over the limit a 413, an unknown route a 404; /health, /v1/models and /metrics answer', async () => {
    const wrong = await new OpenAI({ apiKey: 'nope', baseURL: `${gateway.url}/v1`, maxRetries: 0 }).models
      .list()
      .catch((thrown: unknown) => thrown);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    const big = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    const missing = await fetch(`${gateway.url}/v1/nothing`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: 'not_found_error' } });
    // An Anthropic client's route the gateway does not serve is answered in the Anthropic shape.
    const countTokens = await fetch(`${gateway.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(countTokens.status).toBe(404);
    expect(await countTokens.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const models = await openai().models.list();
    expect(models.data.map((model) => model.id)).toEqual([
      'claude-opus',
      'claude-sonnet',
      'claude-haiku',
      'opus',
      'sonnet',
      'haiku',
    ]);
    const metrics = await fetch(`${gateway.url}/metrics`, { headers: { 'x-api-key': KEY } });
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/gateway_requests_total\{route="POST \/chat\/completions",status="200"\} [1-9]/);
    expect(text).toMatch(/gateway_requests_total\{route="GET \/models",status="401"\} 1/);
    expect(text).toMatch(/gateway_requests_total\{route="other",status="404"\} 2/);
    expect(text).toMatch(/gateway_tokens_total\{kind="output"\} [1-9]/);
    expect(text).toContain('gateway_request_duration_seconds_bucket');
    expect(text).toMatch(/gateway_queue_depth 0/);
    // What a chat's /stats shows of the gateway: answered runs and their latency, refusals not counted as failures.
    const stats = gateway.stats();
    expect(stats.answered).toBeGreaterThanOrEqual(5);
    expect(stats).toMatchObject({ active: 0, queued: 0, failed: 0 });
    expect(stats.p50Ms).toBeGreaterThan(0);
    expect(stats.p95Ms).toBeGreaterThanOrEqual(stats.p50Ms ?? 0);
    const health = await fetch(`${gateway.url}/health`);
    expect(await health.json()).toEqual({
      ok: true,
      active: 0,
      queued: 0,
      maxConcurrent: 2,
      maxQueue: 20,
      prestarted: 0,
    });
  });

  it('bad requests are 400 or 413 before any session is taken; an unknown X-Session-Id starts afresh', async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const empty = await post('/v1/chat/completions', {
      model: 'sonnet',
      messages: [{ role: 'user', content: ' ' }],
    });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { message: 'the last user message is empty' } });
    expect((await post('/chat', { prompt: 'SAY(x)', timeoutMs: -5 })).status).toBe(400);
    expect((await post('/chat', { prompt: 'SAY(x)', maxTurns: 1.5 })).status).toBe(400);
    // Images must come with their data: the relay fetches no URLs; an unknown kind is named.
    const refusals: Array<[string, unknown, string]> = [
      [
        '/v1/chat/completions',
        {
          model: 'sonnet',
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/cat.png' } }] },
          ],
        },
        'data: URL',
      ],
      [
        '/v1/messages',
        {
          model: 'sonnet',
          max_tokens: 10,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image', source: { type: 'base64', media_type: 'image/tiff', data: 'AAAA' } },
              ],
            },
          ],
        },
        'image/tiff',
      ],
      [
        '/v1/responses',
        { model: 'sonnet', input: [{ role: 'user', content: [{ type: 'input_file' }] }] },
        'input_file',
      ],
      [
        '/v1/responses',
        {
          model: 'sonnet',
          input: [
            { role: 'user', content: [{ type: 'input_image', image_url: 'data:image/gif;base64,AAAA' }] },
          ],
        },
        'is not one',
      ],
    ];
    for (const [path, body, named] of refusals) {
      const refused = await post(path, body);
      expect(refused.status).toBe(400);
      expect(JSON.stringify(await refused.json())).toContain(named);
    }
    const stranger = await post(
      '/chat',
      { prompt: 'SAY(fresh start)' },
      { 'x-session-id': 'not-a-conversation' },
    );
    expect(stranger.status).toBe(200);
    expect(await stranger.json()).toMatchObject({ text: 'You said: fresh start' });
    // A body sent in chunks, with no length declared, over the limit: answered 413, not a reset connection.
    const chunked = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${gateway.url}/v1/messages`);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'x-api-key': KEY },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 6; i++) req.write('x'.repeat(1024 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('images reach the model with the prompt, from OpenAI and Anthropic clients', async () => {
    const png = PIXEL_PNG;
    const fromOpenAi = await openai().chat.completions.create({
      model: 'sonnet',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'SAY(what is in the picture)' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
          ],
        },
      ],
    });
    expect(fromOpenAi.choices[0]?.message.content).toBe('You said: what is in the picture');
    const fromAnthropic = await anthropic().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [
        {
          role: 'user',
          content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }],
        },
      ],
    });
    expect(fromAnthropic.stop_reason).toBe('end_turn');
    // The provider got each picture as image content of the user's message, through the CLI and the proxy.
    const pictures = rig.upstream.requests.flatMap((req) =>
      messagesOf(req.body).flatMap((message) =>
        Array.isArray(message.content)
          ? message.content.filter((part: { type?: string }) => part.type === 'image_url')
          : [],
      ),
    );
    expect(pictures).toContainEqual({
      type: 'image_url',
      image_url: { url: `data:image/png;base64,${png}` },
    });
    const askedWithPicture = rig.upstream.requests.filter((req) => JSON.stringify(req.body).includes(png));
    expect(askedWithPicture.length).toBeGreaterThanOrEqual(2);
    // The session store keeps the tasks, not their pictures (database and its write-ahead log alike).
    const database = rig.sessionsConfig().storeUrl.replace(/^sqlite:\/\//, '');
    for (const file of [database, `${database}-wal`].filter((path) => existsSync(path))) {
      expect(readFileSync(file).includes(png)).toBe(false);
    }
  });

  it('a client that disconnects mid-stream stops its CLI', async () => {
    const abort = new AbortController();
    const stream = await openai().chat.completions.create(
      { model: 'sonnet', messages: [{ role: 'user', content: 'SAY(a slow answer please)' }], stream: true },
      { signal: abort.signal },
    );
    // The stream opens when a session takes the request; the answer itself would come at the end (final mode).
    let running = 0;
    try {
      for await (const _chunk of stream) {
        running = rig.cliPids().length;
        abort.abort();
      }
    } catch {
      // The SDK may end the iteration quietly or with an abort error: either way the client is gone.
    }
    expect(running).toBeGreaterThan(0);
    await vi.waitFor(() => expect(rig.cliPids()).toEqual([]), { timeout: 5000, interval: 100 });
  });

  it('/chat answers in one object with the session id', async () => {
    const response = await fetch(`${gateway.url}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'SAY(simple chat)', priority: 'high' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      text: 'You said: simple chat',
      model: 'claude-sonnet',
      outputTokens: expect.any(Number),
      sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      stopReason: 'end_turn',
    });
  });

  it('a run that reaches its turn limit is an answer cut short, as each API says it', async () => {
    // One turn: the model's tool call runs, then the CLI stops before it can answer.
    const chat = await fetch(`${gateway.url}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'SAY(write the note in one turn)', maxTurns: 1 }),
    });
    expect(chat.status).toBe(200);
    expect(await chat.json()).toMatchObject({ text: '', stopReason: 'max_turns' });
    const stream = anthropic().messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'SAY(write the note, one turn)' }],
      metadata: { max_turns: 1 } as Anthropic.Messages.Metadata,
    });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.content[0]).toMatchObject({ type: 'thinking', thinking: 'I will write the note first.' });
  });
});

describe('without GATEWAY_API_KEYS (open on loopback)', () => {
  let open: RunningGateway;
  beforeAll(async () => {
    open = await startGateway({
      config: gatewayConfig({ apiKeys: [] }),
      host: '127.0.0.1',
      engine,
      logger: createLogger('silent', []),
    });
  });
  afterAll(async () => {
    await open?.close();
  });

  /** A POST as a browser would send it: node:http, so Host and Origin are exactly what the test says. */
  const post = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${open.url}/v1/chat/completions`);
      const req = request(
        url,
        { method: 'POST', headers: { 'content-type': 'text/plain', ...headers } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'sonnet', messages: [{ role: 'user', content: 'SAY(open door)' }] }));
    });

  it('a web page of another site, or a name rebound to 127.0.0.1, gets a 403 and starts no session; a program or a local page is answered', async () => {
    const asked = rig.upstream.requests.length;
    const port = new URL(open.url).port;
    const crossSite = await post({ origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(crossSite.body)).toMatchObject({
      error: { type: 'permission_error', message: expect.stringContaining('Origin: https://evil.example') },
    });
    const rebound = await post({ host: `evil.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({
      error: { message: expect.stringContaining('Host: evil.example') },
    });
    const sandboxedFrame = await post({ origin: 'null' });
    expect(sandboxedFrame.status).toBe(403);
    expect(rig.upstream.requests.length).toBe(asked);

    const localPage = await post({ origin: 'http://localhost:5173' });
    expect(localPage.status).toBe(200);
    expect(localPage.body).toContain('You said: open door');
    const sdk = await new OpenAI({
      apiKey: 'unused',
      baseURL: `${open.url}/v1`,
      maxRetries: 0,
    }).chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'SAY(from a program)' }],
    });
    expect(sdk.choices[0]?.message.content).toContain('You said: from a program');
  }, 120_000);
});

describe('one session, a queue', () => {
  let single: SessionEngine;
  let busy: RunningGateway;
  beforeAll(async () => {
    single = rig.engine({ maxSessions: 1, storeUrl: `sqlite://${rig.dir}/single.sqlite` });
    await single.start();
    mkdirSync(join(rig.dir, 'api-work'), { recursive: true });
    busy = await startGateway({
      config: gatewayConfig({ queueMax: 2, queueTimeoutMs: 1500, workspace: join(rig.dir, 'api-work') }),
      host: '127.0.0.1',
      engine: single,
      logger: createLogger('silent', []),
    });
  });
  afterAll(async () => {
    await busy?.close();
  });

  const queuedNow = async (): Promise<unknown> => {
    const health: unknown = await (await fetch(`${busy.url}/health`)).json();
    return typeof health === 'object' && health !== null ? Reflect.get(health, 'queued') : undefined;
  };

  const ask = (text: string, priority: string) =>
    fetch(`${busy.url}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-priority': priority },
      body: JSON.stringify({ prompt: `SAY(${text})` }),
    });

  it('serves waiting requests by priority, refuses past the queue limit (503, Retry-After) and past the wait (408)', async () => {
    const first = rig.upstream.requests.length;
    const slow = ask('slow one', 'normal');
    await vi.waitFor(() => expect(rig.upstream.requests.length).toBeGreaterThan(first), { timeout: 10_000 });
    const low = ask('low one', 'low');
    await vi.waitFor(async () => expect(await queuedNow()).toBe(1));
    const high = ask('high one', 'high');
    await vi.waitFor(async () => expect(await queuedNow()).toBe(2));
    const refused = await ask('one too many', 'normal');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    // The slow answer takes longer than the queue wait: both waiting requests give up with a 408.
    expect((await low).status).toBe(408);
    expect((await high).status).toBe(408);
    expect((await slow).status).toBe(200);
  });

  it('a burst of requests at once is held to the queue limit: the rest get 503 at once', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ask(`burst ${i}`, 'normal').then((response) => response.status)),
    );
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(4);
    expect(statuses.every((status) => [200, 408, 503].includes(status))).toBe(true);
  });

  it('a high-priority request overtakes a low one that came first', async () => {
    // Its own gateway on the same one-session engine, with time to wait: two runs may take seconds on a busy machine.
    const patient = await startGateway({
      config: gatewayConfig({ queueTimeoutMs: 60_000, workspace: join(rig.dir, 'api-work') }),
      host: '127.0.0.1',
      engine: single,
      logger: createLogger('silent', []),
    });
    const askPatiently = (text: string, priority: string) =>
      fetch(`${patient.url}/chat`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'application/json',
          'x-priority': priority,
        },
        body: JSON.stringify({ prompt: `SAY(${text})` }),
      });
    const start = rig.upstream.requests.length;
    const quick = askPatiently('quick blocker', 'normal');
    const low = askPatiently('low first', 'low');
    const high = askPatiently('high second', 'high');
    expect((await quick).status).toBe(200);
    expect((await low).status).toBe(200);
    expect((await high).status).toBe(200);
    await patient.close();
    const order = rig.upstream.requests
      .slice(start)
      .map((req) => said(req.body))
      .filter((words) => words !== '');
    expect(order.indexOf('high second')).toBeLessThan(order.indexOf('low first'));
    // GATEWAY_WORKSPACE: these sessions worked there (Claude Code names its working directory to the model).
    const asked = rig.upstream.requests.find((req) => said(req.body) === 'high second');
    expect(JSON.stringify(asked?.body)).toContain(join(rig.dir, 'api-work'));
  });
});

describe('pre-started CLIs (GATEWAY_PRESTART)', () => {
  it('a new conversation takes a CLI started ahead, system prompt and all; each tier in use is kept warm; none is left after close', async () => {
    const warm = rig.engine(
      { storeUrl: `sqlite://${rig.dir}/warm.sqlite` },
      { prestart: { count: 1, platform: GATEWAY_PLATFORM } },
    );
    await warm.start();
    const served = await startGateway({
      config: gatewayConfig(),
      host: '127.0.0.1',
      engine: warm,
      logger: createLogger('silent', []),
    });
    const client = new OpenAI({ apiKey: KEY, baseURL: `${served.url}/v1`, maxRetries: 0 });
    const waitingNow = async (): Promise<number> =>
      Reflect.get((await (await fetch(`${served.url}/health`)).json()) as object, 'prestarted') as number;
    try {
      // The first conversation starts its CLI cold; then one of that shape waits.
      const first = await client.chat.completions.create({
        model: 'sonnet',
        messages: [{ role: 'user', content: 'SAY(cold start)' }],
      });
      expect(first.choices[0]?.message.content).toBe('You said: cold start');
      await vi.waitFor(async () => expect(await waitingNow()).toBe(1), { timeout: 20_000, interval: 200 });
      const waiting = rig.cliPids();
      expect(waiting).toHaveLength(1);
      // The next new conversation, with a system prompt of its own, is answered by that process.
      const second = await client.chat.completions.create({
        model: 'claude-sonnet-4-5',
        messages: [
          { role: 'system', content: 'Answer tersely. PRESTART-SYSTEM-MARK' },
          { role: 'user', content: 'SAY(warm start)' },
        ],
      });
      expect(second.choices[0]?.message.content).toBe('You said: warm start');
      const asked = rig.upstream.requests.find((req) => said(req.body) === 'warm start');
      expect(JSON.stringify(messagesOf(asked?.body)[0])).toContain('PRESTART-SYSTEM-MARK');
      expect(rig.cliPids()).not.toContain(waiting[0]);
      // Another tier is another shape: one of each waits.
      await client.chat.completions.create({
        model: 'opus',
        messages: [{ role: 'user', content: 'SAY(opus)' }],
      });
      await vi.waitFor(async () => expect(await waitingNow()).toBe(2), { timeout: 20_000, interval: 200 });
    } finally {
      await served.close();
      await warm.close();
    }
    await vi.waitFor(() => expect(rig.cliPids()).toEqual([]), { timeout: 10_000, interval: 200 });
  });
});
