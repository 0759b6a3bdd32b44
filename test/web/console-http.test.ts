import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebPlatform, type Incoming } from '../../platforms/index.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { type RunningProxy, startProxy } from '../../src/proxy/index.js';

// The console's HTTP side on the proxy's real server, as main.ts mounts it: what a page (or anything else that
// reaches the port) gets for each request. No CLI here: the platform's messages are sent as the controller
// sends them.

const logger = createLogger('silent', []);
const config = loadConfig({
  PORT: '0',
  PROVIDER_TYPE: 'openai',
  OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
  MODEL: 'm',
});

/** Reads an SSE response until `count` frames (or the stream ends), then lets it go. */
async function frames(response: Response, count: number): Promise<string[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const complete = () =>
    text.split('\n\n').filter((frame) => frame.trim() !== '' && !frame.startsWith('retry:'));
  while (complete().length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return complete().slice(0, count);
}

describe('the console mounted on the proxy server', () => {
  let proxy: RunningProxy;
  const web = createWebPlatform({ config: { enabled: true, authToken: undefined }, logger });
  const received: Incoming[] = [];

  beforeAll(async () => {
    await web.start((incoming) => received.push(incoming));
    proxy = await startProxy({ config: config.proxy, logger, mounted: web.http });
  });
  afterAll(async () => {
    await web.stop();
    await proxy.close();
  });

  it('resumes a stream after the change it names (Last-Event-ID), with exactly the changes after it', async () => {
    const state = (await (await fetch(`${proxy.url}/ui/api/state`)).json()) as { lastId: string };
    const one = await web.send('console', '<b>one</b>', { formatted: true });
    await web.edit('console', one.messageId, '<b>one, edited</b>', { formatted: true });
    await web.send('console', 'two', { formatted: false });
    const all = await frames(await fetch(`${proxy.url}/ui/api/events?after=${state.lastId}`), 3);
    expect(all.map((frame) => /^id: (.*)$/m.exec(frame)?.[1])).toHaveLength(3);
    const secondId = /^id: (.*)$/m.exec(all[1] ?? '')?.[1] ?? '';
    // The header wins over the query, as on an EventSource's reconnect.
    const resumed = await frames(
      await fetch(`${proxy.url}/ui/api/events?after=${state.lastId}`, {
        headers: { 'last-event-id': secondId },
      }),
      1,
    );
    expect(resumed).toEqual([all[2]]);
    expect(resumed[0]).toContain('"text":"two"');
  });

  it('tells a page of an earlier run to reload instead of guessing', async () => {
    const response = await fetch(`${proxy.url}/ui/api/events`, {
      headers: { 'last-event-id': 'earlier-run:7' },
    });
    expect(await response.text()).toBe('retry: 1000\n\nevent: reload\ndata: {}\n\n');
  });

  it('hands a posted message to the controller as an Incoming of the console chat', async () => {
    const response = await fetch(`${proxy.url}/ui/api/send`, {
      method: 'POST',
      headers: { origin: proxy.url, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'do the thing' }),
    });
    expect(response.status).toBe(202);
    const { messageId } = (await response.json()) as { messageId: string };
    expect(received.at(-1)).toMatchObject({
      platform: 'web',
      chatId: 'console',
      kind: 'text',
      text: 'do the thing',
      messageId,
      replyToMessageId: null,
    });
  });

  it('serves only its own paths: the proxy keeps /uix, /v1 and the rest', async () => {
    expect((await fetch(`${proxy.url}/ui`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/');
    expect((await fetch(`${proxy.url}/ui/nothing.js`)).status).toBe(404);
    const other = await fetch(`${proxy.url}/uix`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(await (await fetch(`${proxy.url}/health`)).json()).toEqual({ status: 'ok' });
  });

  it('refuses a post with another origin, or none, before reading it', async () => {
    for (const origin of ['http://evil.example', 'null', undefined]) {
      const response = await fetch(`${proxy.url}/ui/api/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(origin === undefined ? {} : { origin }) },
        body: JSON.stringify({ text: 'from elsewhere' }),
      });
      expect(response.status).toBe(403);
    }
    expect(received.some((incoming) => incoming.kind === 'text' && incoming.text === 'from elsewhere')).toBe(
      false,
    );
  });

  it('without a token, answers only requests addressed to a loopback name (a rebound DNS name gets nothing)', async () => {
    const port = new URL(proxy.url).port;
    const ask = (host: string, method: 'GET' | 'POST', path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method,
            path,
            headers: { host, origin: `http://${host}`, 'content-type': 'application/json' },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(method === 'POST' ? JSON.stringify({ text: 'rebound' }) : undefined);
      });
    for (const path of ['/ui/api/state', '/ui/api/tree']) {
      const rebound = await ask(`evil.example:${port}`, 'GET', path);
      expect(rebound.status).toBe(403);
      expect(rebound.body).not.toContain('messages');
    }
    expect((await ask(`evil.example:${port}`, 'POST', '/ui/api/send')).status).toBe(403);
    expect(received.some((incoming) => incoming.kind === 'text' && incoming.text === 'rebound')).toBe(false);
    expect((await ask(`localhost:${port}`, 'GET', '/ui/api/state')).status).toBe(200);
    expect((await ask(`127.0.0.1:${port}`, 'GET', '/ui/api/tree')).status).toBe(200);
  });
});
