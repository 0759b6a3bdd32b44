import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/common/index.js';
import { type ProviderWait, RELAY_NODE_HEADER } from '../../src/proxy/index.js';
import { textReply } from '../fakes/openai-upstream.js';
import { type Rig, startRig } from './harness.js';

// The proxy tells the relay session whose request it holds why it waits (a 429, the rate window, busy slots),
// so the chat can say so instead of going quiet. Only requests carrying the relay's node header are reported.

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Real time plus every wait slept so far: waits pass at once, and time moves by as much as they asked. */
function hurriedClock(): Clock {
  let slept = 0;
  return {
    now: () => Date.now() + slept,
    sleep: async (ms) => {
      slept += ms;
    },
  };
}

function post(url: string, headers: Record<string, string> = {}, prompt = 'hello'): Promise<Response> {
  return fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: prompt }],
    }),
  });
}

describe('provider waits reported to the relay session', () => {
  it('a 429 waited out names the node, the provider, the delay and the retry count', async () => {
    const waits: ProviderWait[] = [];
    rig = await startRig(
      (req) =>
        req.index === 0 ? { kind: 'error', status: 429, headers: { 'retry-after': '7' } } : textReply('ok'),
      {},
      { clock: hurriedClock(), onProviderWait: (wait) => waits.push(wait) },
    );
    const res = await post(rig.proxy.url, { [RELAY_NODE_HEADER]: 'node-1' });
    expect(res.status).toBe(200);
    await res.text();
    // The wait, then word that the request went out after all.
    expect(waits.map((wait) => wait.reason)).toEqual(['rate_limited', 'over']);
    expect(waits[0]).toMatchObject({
      nodeId: 'node-1',
      provider: 'openai',
      label: 'the provider',
      reason: 'rate_limited',
      attempt: 1,
      maxRetries: 3,
    });
    // Retry-After 7 s plus up to a quarter of jitter.
    expect(waits[0]?.delayMs).toBeGreaterThanOrEqual(7000);
    expect(waits[0]?.delayMs).toBeLessThanOrEqual(8750);
  });

  it('reports nothing for a request without the header or with a malformed one (a user’s own claude)', async () => {
    const waits: ProviderWait[] = [];
    rig = await startRig(
      (req) =>
        req.index % 2 === 0
          ? { kind: 'error', status: 429, headers: { 'retry-after': '5' } }
          : textReply('ok'),
      {},
      { clock: hurriedClock(), onProviderWait: (wait) => waits.push(wait) },
    );
    await (await post(rig.proxy.url)).text();
    await (await post(rig.proxy.url, { [RELAY_NODE_HEADER]: 'not a node id; rm -rf /' })).text();
    expect(rig.upstream.requests).toHaveLength(4);
    expect(waits).toEqual([]);
  });

  it('a request beyond PROVIDER_RATE_LIMIT hears how long until the window lets it through', async () => {
    const waits: ProviderWait[] = [];
    rig = await startRig(
      () => textReply('ok'),
      { PROVIDER_RATE_LIMIT: '1', PROVIDER_RATE_WINDOW: '30' },
      { clock: hurriedClock(), onProviderWait: (wait) => waits.push(wait) },
    );
    await (await post(rig.proxy.url, { [RELAY_NODE_HEADER]: 'node-a' })).text();
    expect(waits).toEqual([]);
    await (await post(rig.proxy.url, { [RELAY_NODE_HEADER]: 'node-b' })).text();
    expect(waits.map((wait) => [wait.nodeId, wait.reason])).toEqual([
      ['node-b', 'rate_window'],
      ['node-b', 'over'],
    ]);
    expect(waits[0]).toMatchObject({ nodeId: 'node-b', reason: 'rate_window', attempt: null });
    expect(waits[0]?.delayMs).toBeGreaterThan(25_000);
    expect(waits[0]?.delayMs).toBeLessThanOrEqual(30_000);
  });

  it('a request waiting for a slot past PROVIDER_MAX_CONCURRENCY is told every slot is busy', async () => {
    const waits: ProviderWait[] = [];
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    rig = await startRig(
      (req) =>
        req.index === 0
          ? { ...textReply('first answer', { chunkSize: 100 }), pause: { after: 1, until: firstHeld } }
          : textReply('second answer', { chunkSize: 100 }),
      { PROVIDER_MAX_CONCURRENCY: '1' },
      { onProviderWait: (wait) => waits.push(wait) },
    );
    const first = await post(rig.proxy.url, { [RELAY_NODE_HEADER]: 'node-a' });
    const second = post(rig.proxy.url, { [RELAY_NODE_HEADER]: 'node-b' });
    while (waits.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(waits).toEqual([
      {
        nodeId: 'node-b',
        provider: 'openai',
        label: 'the provider',
        reason: 'busy',
        delayMs: null,
        attempt: null,
        maxRetries: null,
      },
    ]);
    releaseFirst();
    expect(await first.text()).toContain('first answer');
    expect(await (await second).text()).toContain('second answer');
    expect(waits.map((wait) => [wait.nodeId, wait.reason])).toEqual([
      ['node-b', 'busy'],
      ['node-b', 'over'],
    ]);
  });

  it('stats show each provider’s budget right now: the window used, open streams, a cool-down still running', async () => {
    rig = await startRig(
      (req) =>
        req.index < 2 ? textReply('ok') : { kind: 'error', status: 429, headers: { 'retry-after': '40' } },
      { PROVIDER_RATE_LIMIT: '3', PROVIDER_RATE_WINDOW: '60', PROVIDER_MAX_CONCURRENCY: '4' },
    );
    expect(rig.proxy.stats().providers).toEqual([]);
    await (await post(rig.proxy.url)).text();
    await (await post(rig.proxy.url)).text();
    expect(rig.proxy.stats().providers[0]?.live).toEqual({
      windowUsed: 2,
      windowLimit: 3,
      windowMs: 60_000,
      active: 0,
      maxConcurrency: 4,
      waiting: 0,
      coolDownMs: 0,
    });
    // A Retry-After too long to wait out here goes back to the client; the provider stays cooled down.
    expect((await post(rig.proxy.url)).status).toBe(429);
    const live = rig.proxy.stats().providers[0]?.live;
    expect(live?.windowUsed).toBe(3);
    expect(live?.coolDownMs).toBeGreaterThan(30_000);
  });
});
