import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Agent, request } from 'undici';
import { PROVIDERS } from '../src/proxy/providers.js';
import { toOpenAiRequest } from '../src/proxy/request-to-openai.js';
import { startFakeUpstream, textReply } from '../test/fakes/openai-upstream.js';
import { proxyConfig } from '../test/proxy/harness.js';
import type { BenchRow } from './types.js';

// Proxy overhead on loopback against the scripted upstream, side by side in one run: the same answer fetched
// from the upstream directly (with the converted OpenAI body) and through the proxy (with the real CLI body).

const BODY_FILE = resolve(
  import.meta.dirname,
  '../../shared/reference/claude-cli-2.1.197/full/main-turn-print-mode-authtoken.json',
);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function timed(agent: Agent, url: string, body: string, headers: Record<string, string>) {
  const start = performance.now();
  const res = await request(url, { method: 'POST', body, headers, dispatcher: agent });
  let first = 0;
  for await (const _chunk of res.body) {
    if (first === 0) first = performance.now() - start;
  }
  return { ttfb: first, total: performance.now() - start, status: res.statusCode };
}

/** The proxy in its own process (as the relay runs it), so its RSS and CPU are its own. */
async function startProxyProcess(upstreamUrl: string) {
  const config = proxyConfig(upstreamUrl, {
    PROVIDER_RATE_LIMIT: '1000000',
    PROVIDER_MAX_CONCURRENCY: '1000',
  });
  const entry = resolve(import.meta.dirname, '../src/proxy/index.ts');
  const logModule = resolve(import.meta.dirname, '../src/log.ts');
  const code = `
    const { startProxy } = await import(${JSON.stringify(entry)});
    const { createLogger } = await import(${JSON.stringify(logModule)});
    const proxy = await startProxy({ config: ${JSON.stringify(config)}, logger: createLogger('silent', []) });
    process.stdout.write(proxy.url + '\\n');
    process.stdin.on('end', () => proxy.close().then(() => process.exit(0)));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.once('exit', (codeNumber) => reject(new Error(`proxy process exited ${codeNumber}`)));
    child.stdout.once('data', (data: Buffer) => resolveUrl(data.toString().trim()));
  });
  return {
    url,
    async peakRssMb() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    },
    close: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.stdin.end();
      }),
  };
}

export default async function proxyBench(): Promise<BenchRow[]> {
  const recorded: unknown = JSON.parse(readFileSync(BODY_FILE, 'utf8'));
  const anthropicBody = (recorded as { body: Record<string, unknown> }).body; // a recording we own the shape of
  const clientBody = JSON.stringify({ ...anthropicBody, stream: true });
  const openAiBody = JSON.stringify(
    toOpenAiRequest(anthropicBody, { provider: PROVIDERS.openai, model: 'fake-model', stream: true }).body,
  );
  const answer = 'x'.repeat(50 * 8); // 50 chunks of 8 characters
  const upstream = await startFakeUpstream(() => textReply(answer, { chunkSize: 8 }), { record: false });
  const proxy = await startProxyProcess(upstream.url);
  const agent = new Agent({ connections: 256 });
  const direct = `${upstream.url}/chat/completions`;
  const viaProxy = `${proxy.url}/v1/messages?beta=true`;
  const json = { 'content-type': 'application/json' };
  const auth = { ...json, authorization: 'Bearer test', 'anthropic-version': '2023-06-01' };
  try {
    for (let i = 0; i < 30; i++) {
      await timed(agent, direct, openAiBody, json);
      await timed(agent, viaProxy, clientBody, auth);
    }
    const d: Array<{ ttfb: number; total: number }> = [];
    const p: Array<{ ttfb: number; total: number }> = [];
    for (let i = 0; i < 200; i++) {
      d.push(await timed(agent, direct, openAiBody, json));
      const viaP = await timed(agent, viaProxy, clientBody, auth);
      if (viaP.status !== 200) throw new Error(`proxy answered ${viaP.status}`);
      p.push(viaP);
    }
    const addedTtfb = median(p.map((x) => x.ttfb)) - median(d.map((x) => x.ttfb));
    const addedTotal = median(p.map((x) => x.total)) - median(d.map((x) => x.total));

    const concurrent = async (n: number) => {
      const runs = await Promise.all(
        Array.from({ length: n }, () => timed(agent, viaProxy, clientBody, auth)),
      );
      return median(runs.map((r) => r.ttfb));
    };
    const ttfb50 = await concurrent(50);
    await concurrent(100);
    const mb = await proxy.peakRssMb();
    const directTtfb = median(d.map((x) => x.ttfb));
    return [
      { part: 'proxy', name: 'median TTFB, upstream direct', value: directTtfb, unit: 'ms' },
      { part: 'proxy', name: 'median TTFB, through proxy', value: median(p.map((x) => x.ttfb)), unit: 'ms' },
      {
        part: 'proxy',
        name: 'added median TTFB',
        value: addedTtfb,
        unit: 'ms',
        target: '< 2 ms',
        ok: addedTtfb < 2,
      },
      {
        part: 'proxy',
        name: 'added median time, 50-chunk answer',
        value: addedTotal,
        unit: 'ms',
        target: '< 2 ms',
        ok: addedTotal < 2,
        note: `direct ${median(d.map((x) => x.total)).toFixed(2)} ms, ratio ${(median(p.map((x) => x.total)) / median(d.map((x) => x.total))).toFixed(2)}`,
      },
      {
        part: 'proxy',
        name: '50 concurrent streams, median TTFB',
        value: ttfb50,
        unit: 'ms',
        target: '< 100 ms',
        ok: ttfb50 < 100,
      },
      {
        part: 'proxy',
        name: '100 concurrent streams, proxy process peak RSS',
        value: mb,
        unit: 'MB',
        target: '< 150 MB',
        ok: mb < 150,
      },
    ];
  } finally {
    await agent.close();
    await proxy.close();
    await upstream.close();
  }
}
