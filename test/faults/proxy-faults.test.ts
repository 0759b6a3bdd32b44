import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/common/index.js';
import { assertAnthropicStream, parseAnthropicSse } from '../../src/proxy/index.js';
import { lastUserText, type Script, textReply, type UpstreamReply } from '../fakes/openai-upstream.js';
import { type Rig, startRig } from '../proxy/harness.js';

// Upstream faults at the proxy's HTTP surface: for each, what the client (the CLI) receives, that the proxy
// stays up and answers the next request, and that /stats counts it. The real CLI's view of the same faults
// is in proxy-faults.e2e.test.ts.

/** Real time, running 100× faster: retry waits and cool-downs keep their proportions but cost milliseconds. */
function fastClock(): Clock {
  const start = Date.now();
  return {
    now: () => start + (Date.now() - start) * 100,
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = setTimeout(resolve, ms / 100);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }),
  };
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const PROBE = 'are you still there?';

/** Every script answers the probe normally, so each test can check that the proxy survived. */
async function start(fault: Script, env: Record<string, string> = {}): Promise<Rig> {
  rig = await startRig(
    (req) => (lastUserText(req.body) === PROBE ? textReply('still here') : fault(req)),
    env,
    {
      clock: fastClock(),
    },
  );
  return rig;
}

async function send(text: string, stream = true) {
  const res = await fetch(`${rig?.proxy.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-sonnet-5',
      max_tokens: 100,
      stream,
      messages: [{ role: 'user', content: text }],
    }),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The text the user reads: every text delta of a contract-valid stream, joined. */
function textOf(body: string, options: { allowError?: boolean } = {}): string {
  const events = parseAnthropicSse(body);
  assertAnthropicStream(events, options);
  return events
    .map((event) =>
      event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : '',
    )
    .join('');
}

async function expectStillUp(): Promise<void> {
  const answer = await send(PROBE);
  expect(answer.status).toBe(200);
  expect(textOf(answer.body)).toBe('still here');
}

const counters = () => rig?.proxy.stats().providers[0];

function errorEvent(body: string) {
  const events = parseAnthropicSse(body);
  assertAnthropicStream(events, { allowError: true });
  return events.find((event) => event.type === 'error');
}

describe('proxy faults', () => {
  it('connection reset mid-stream: the stream ends with an error event (the CLI retries), then life goes on', async () => {
    const reply = textReply('this answer is cut off', { chunkSize: 3 });
    await start(() => ({ ...reply, breakAfter: 4 }));
    const streamed = await send('hello');
    expect(streamed.status).toBe(200);
    expect(errorEvent(streamed.body)).toMatchObject({ error: { type: 'overloaded_error' } });
    expect(textOf(streamed.body, { allowError: true })).toBe('this answer'.slice(0, 9)); // 3 chunks of 3 reached
    await expectStillUp();
    expect(counters()).toMatchObject({ requests: 2, errors: 1 });
  });

  it('a non-streaming answer without choices: an Anthropic-shaped 529 the CLI retries, counted as an error', async () => {
    await start(() => ({ kind: 'json', body: { choices: 'not a list' } }));
    const answer = await send('hello', false);
    expect(answer.status).toBe(529);
    expect(JSON.parse(answer.body)).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: expect.stringContaining('without any choices') },
    });
    await expectStillUp();
    expect(counters()).toMatchObject({ requests: 2, errors: 1 });
  });

  it('429 storm without Retry-After: backs off, then answers 429 with retry-after; nobody hangs', async () => {
    await start(() => ({ kind: 'error', status: 429 }));
    const answers = await Promise.all([send('a'), send('b'), send('c', false)]);
    for (const answer of answers) {
      expect(answer.status).toBe(429);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(JSON.parse(answer.body)).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    }
    await expectStillUp();
    expect(counters()).toMatchObject({ requests: 4, errors: 3, rateLimited: 12 });
  });

  it('429 storm with Retry-After: waits as told, shares the cool-down, and succeeds when the storm passes', async () => {
    await start((req) =>
      req.index < 4
        ? { kind: 'error', status: 429, headers: { 'retry-after': '2' } }
        : textReply(`answer ${lastUserText(req.body)}`),
    );
    const answers = await Promise.all([send('one'), send('two')]);
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(textOf(answer.body)).toBe(i === 0 ? 'answer one' : 'answer two');
    }
    await expectStillUp();
    expect(counters()).toMatchObject({ requests: 3, errors: 0, rateLimited: 4 });
  });

  it.each([
    [500, 500, 'api_error'],
    [502, 529, 'overloaded_error'],
    [503, 529, 'overloaded_error'],
    [529, 529, 'overloaded_error'],
  ])('upstream %i (retried once) reaches the client as %i %s', async (status, shown, type) => {
    await start(() => ({ kind: 'error', status, body: { error: { message: `provider says ${status}` } } }));
    const answer = await send('hello');
    expect(answer.status).toBe(shown);
    expect(JSON.parse(answer.body)).toEqual({
      type: 'error',
      error: { type, message: expect.stringContaining(`provider says ${status}`) },
    });
    expect(rig?.upstream.requests).toHaveLength(2);
    await expectStillUp();
    expect(counters()).toMatchObject({ requests: 2, errors: 1 });
  });

  it('a single 503 is retried and the user gets the answer', async () => {
    await start((req) => (req.index === 0 ? { kind: 'error', status: 503 } : textReply('second try')));
    const answer = await send('hello');
    expect(answer.status).toBe(200);
    expect(textOf(answer.body)).toBe('second try');
    expect(counters()).toMatchObject({ requests: 1, errors: 0 });
  });

  it('an upstream that stops sending without closing: the read timeout ends the stream with an error event', async () => {
    const reply = textReply('starts fine and then nothing', { chunkSize: 5 });
    await start(() => ({ ...reply, hangAfter: 3 }), { HTTP_READ_TIMEOUT: '0.5' });
    const answer = await send('hello');
    expect(answer.status).toBe(200);
    expect(textOf(answer.body, { allowError: true })).toBe('starts fin'); // 2 text chunks of 5 arrived
    expect(errorEvent(answer.body)).toMatchObject({ error: { type: 'overloaded_error' } });
    await expectStillUp();
    expect(counters()).toMatchObject({ requests: 2, errors: 1 });
  });

  it('malformed SSE chunks are skipped and counted; the answer arrives whole', async () => {
    const reply = textReply('the whole answer', { chunkSize: 4 });
    if (reply.kind !== 'stream') throw new Error('textReply streams');
    const junk: UpstreamReply = {
      kind: 'stream',
      chunks: [
        reply.chunks[0] ?? {},
        'garbage without a field\n\n',
        ': a comment is fine\n\n',
        'data: {"choices": [ {not json\n\n',
        { id: 'chatcmpl-x', object: 'chat.completion.chunk' }, // no choices, no usage
        ...reply.chunks.slice(1, 3),
        'data: [1, 2, 3]\n\n',
        ...reply.chunks.slice(3),
      ],
    };
    await start(() => junk);
    const answer = await send('hello');
    expect(answer.status).toBe(200);
    expect(textOf(answer.body)).toBe('the whole answer');
    await expectStillUp();
    expect(counters()).toMatchObject({ requests: 2, errors: 0, malformedChunks: 4 });
  });

  it('a stream of nothing but junk ends with an error event the CLI retries, never an empty answer', async () => {
    await start(() => ({
      kind: 'stream',
      chunks: ['data: {oops\n\n', { id: 'chatcmpl-x', object: 'noise' }],
    }));
    const streamed = await send('hello');
    expect(errorEvent(streamed.body)).toMatchObject({
      error: { type: 'overloaded_error', message: expect.stringContaining('no completion chunk') },
    });
    expect(textOf(streamed.body, { allowError: true })).toBe('');
    await expectStillUp();
    expect(counters()).toMatchObject({ requests: 2, errors: 1, malformedChunks: 2 });
  });

  it('a stream whose chunks carry no choice at all (only usage) is a failure too, not an empty answer', async () => {
    await start(() => ({
      kind: 'stream',
      chunks: [
        { id: 'chatcmpl-x', object: 'chat.completion.chunk', choices: [] },
        { id: 'chatcmpl-x', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 3 } },
      ],
    }));
    const streamed = await send('hello');
    expect(errorEvent(streamed.body)).toMatchObject({
      error: { message: expect.stringContaining('no completion chunk') },
    });
    await expectStillUp();
    expect(counters()).toMatchObject({ requests: 2, errors: 1, malformedChunks: 0 });
  });

  it('an error object mid-stream becomes an error event with the provider message', async () => {
    const reply = textReply('partial', { chunkSize: 3 });
    if (reply.kind !== 'stream') throw new Error('textReply streams');
    await start(() => ({
      kind: 'stream',
      chunks: [...reply.chunks.slice(0, 2), { error: { message: 'model crashed' } }],
      omitDone: true,
    }));
    const answer = await send('hello');
    expect(errorEvent(answer.body)).toMatchObject({
      error: { message: expect.stringContaining('model crashed') },
    });
    await expectStillUp();
  });
});
