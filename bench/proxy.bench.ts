import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Agent, request } from 'undici';
import { PROVIDERS } from '../src/providers.js';
import { toOpenAiRequest } from '../src/proxy/request-to-openai.js';
import { proxyConfig } from '../test/proxy/harness.js';
import { REFERENCE_DIR } from '../test/shared-dir.js';
import type { BenchRow } from './types.js';

// Proxy overhead on loopback against the scripted upstream, side by side in one run: the same answer fetched
// from the upstream directly (with the converted OpenAI body) and through the proxy (with the real CLI body).
// Client, upstream and proxy each run in their own process, as they do in real use (a provider never shares
// the client's event loop). The proxy's rate limits are set far above the load: the targets measure the
// proxy's own overhead, not PROVIDER_MAX_CONCURRENCY queueing.

export const BODY_FILE = resolve(
  REFERENCE_DIR,
  'claude-cli-2.1.197/full/main-turn-print-mode-authtoken.json',
);

const ROUNDS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function timed(agent: Agent, url: string, body: Buffer, headers: Record<string, string>) {
  const start = performance.now();
  const res = await request(url, { method: 'POST', body, headers, dispatcher: agent });
  let first = 0;
  for await (const _chunk of res.body) {
    if (first === 0) first = performance.now() - start;
  }
  return { ttfb: first, total: performance.now() - start, status: res.statusCode };
}

/**
 * Runs `code` (ESM; through tsx when it imports TypeScript) in a child that prints its URL, lives until stdin
 * ends, and reports its memory.
 */
export async function startChild(code: string, options: { typescript: boolean } = { typescript: true }) {
  const loader = options.typescript ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, '--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.once('exit', (codeNumber) => reject(new Error(`proxy process exited ${codeNumber}`)));
    child.stdout.once('data', (data: Buffer) => resolveUrl(data.toString().trim()));
  });
  const memoryMb = async (field: 'VmRSS' | 'VmHWM') => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  };
  return {
    url,
    rssMb: () => memoryMb('VmRSS'),
    peakRssMb: () => memoryMb('VmHWM'),
    close: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.stdin.end();
      }),
  };
}

/** The proxy in its own process (as the relay runs it), so its RSS and CPU are its own. */
function startProxyProcess(upstreamUrl: string) {
  const config = proxyConfig(upstreamUrl, {
    PROVIDER_RATE_LIMIT: '1000000',
    PROVIDER_MAX_CONCURRENCY: '1000',
  });
  // The compiled build, as `npm start` runs it (no TypeScript loader in the process).
  const root = resolve(import.meta.dirname, '..');
  const built = spawnSync(
    process.execPath,
    [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', resolve(root, 'tsconfig.build.json')],
    {
      stdio: 'inherit',
    },
  );
  if (built.status !== 0) throw new Error('npm run build failed');
  const entry = resolve(root, 'dist/src/proxy/index.js');
  const logModule = resolve(root, 'dist/src/log.js');
  return startChild(
    `
    const { startProxy } = await import(${JSON.stringify(entry)});
    const { createLogger } = await import(${JSON.stringify(logModule)});
    const proxy = await startProxy({ config: ${JSON.stringify(config)}, logger: createLogger('silent', []) });
    process.stdout.write(proxy.url + '\\n');
    process.stdin.on('end', () => proxy.close().then(() => process.exit(0)));
    process.stdin.resume();`,
    { typescript: false },
  );
}

/** The scripted upstream in its own process: a 50-chunk streamed answer of 8 characters per chunk. */
export function startUpstreamProcess() {
  const fake = resolve(import.meta.dirname, '../test/fakes/openai-upstream.ts');
  return startChild(`
    const { startFakeUpstream, textReply } = await import(${JSON.stringify(fake)});
    const upstream = await startFakeUpstream(() => textReply('x'.repeat(400), { chunkSize: 8 }), { record: false });
    process.stdout.write(upstream.url + '\\n');
    process.stdin.on('end', () => upstream.close().then(() => process.exit(0)));
    process.stdin.resume();`);
}

export default async function proxyBench(): Promise<BenchRow[]> {
  const recorded: unknown = JSON.parse(readFileSync(BODY_FILE, 'utf8'));
  const anthropicBody = (recorded as { body: Record<string, unknown> }).body; // a recording we own the shape of
  // Encoded once, so the client's own encoding work is out of both measurements.
  const clientBody = Buffer.from(JSON.stringify({ ...anthropicBody, stream: true }));
  const openAiBody = Buffer.from(
    JSON.stringify(
      toOpenAiRequest(anthropicBody, { provider: PROVIDERS.openai, model: 'fake-model', stream: true }).body,
    ),
  );
  const loadAtStart = loadavg()[0] ?? 0;
  const upstream = await startUpstreamProcess();
  const proxy = await startProxyProcess(upstream.url);
  const idleMb = await proxy.rssMb();
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
    const concurrent = async (url: string, body: Buffer, headers: Record<string, string>, n: number) => {
      const runs = await Promise.all(Array.from({ length: n }, () => timed(agent, url, body, headers)));
      if (runs.some((r) => r.status !== 200)) throw new Error('a concurrent request failed');
      return median(runs.map((r) => r.ttfb));
    };
    // The machine is shared: several rounds, each measured side by side, and the median of their medians.
    const rounds: Array<
      Record<'directTtfb' | 'proxyTtfb' | 'directTotal' | 'proxyTotal' | 'direct50' | 'proxy50', number>
    > = [];
    for (let round = 0; round < ROUNDS; round++) {
      const d: Array<{ ttfb: number; total: number }> = [];
      const p: Array<{ ttfb: number; total: number }> = [];
      for (let i = 0; i < 150; i++) {
        d.push(await timed(agent, direct, openAiBody, json));
        const viaP = await timed(agent, viaProxy, clientBody, auth);
        if (viaP.status !== 200) throw new Error(`proxy answered ${viaP.status}`);
        p.push(viaP);
      }
      rounds.push({
        directTtfb: median(d.map((x) => x.ttfb)),
        proxyTtfb: median(p.map((x) => x.ttfb)),
        directTotal: median(d.map((x) => x.total)),
        proxyTotal: median(p.map((x) => x.total)),
        direct50: await concurrent(direct, openAiBody, json, 50),
        proxy50: await concurrent(viaProxy, clientBody, auth, 50),
      });
    }
    await concurrent(viaProxy, clientBody, auth, 100);
    const peakMb = await proxy.peakRssMb();
    const of = (key: keyof (typeof rounds)[number]) => median(rounds.map((round) => round[key]));
    const each = (key: keyof (typeof rounds)[number]) =>
      `rounds: ${rounds.map((round) => round[key].toFixed(2)).join(', ')}`;
    const directTtfb = of('directTtfb');
    const proxyTtfb = of('proxyTtfb');
    const directTotal = of('directTotal');
    const proxyTotal = of('proxyTotal');
    const direct50 = of('direct50');
    const ttfb50 = of('proxy50');
    return [
      {
        part: 'proxy',
        name: 'median TTFB, upstream direct',
        value: directTtfb,
        unit: 'ms',
        note: each('directTtfb'),
      },
      {
        part: 'proxy',
        name: 'median TTFB, through proxy',
        value: proxyTtfb,
        unit: 'ms',
        note: each('proxyTtfb'),
      },
      {
        part: 'proxy',
        name: 'added median TTFB',
        value: proxyTtfb - directTtfb,
        unit: 'ms',
        target: '< 2 ms',
        ok: proxyTtfb - directTtfb < 2,
        note: `ratio ${(proxyTtfb / directTtfb).toFixed(2)}`,
      },
      { part: 'proxy', name: 'median time, 50-chunk answer, direct', value: directTotal, unit: 'ms' },
      {
        part: 'proxy',
        name: 'added median time, 50-chunk answer',
        value: proxyTotal - directTotal,
        unit: 'ms',
        target: '< 2 ms',
        ok: proxyTotal - directTotal < 2,
        note: `ratio ${(proxyTotal / directTotal).toFixed(2)}`,
      },
      { part: 'proxy', name: '50 concurrent streams, median TTFB, direct', value: direct50, unit: 'ms' },
      {
        part: 'proxy',
        name: '50 concurrent streams, median TTFB',
        value: ttfb50,
        unit: 'ms',
        target: '< 100 ms',
        ok: ttfb50 < 100,
        note: each('proxy50'),
      },
      // The proxy module alone in a process, for its own growth; what users run is measured in process.bench.ts.
      { part: 'proxy', name: 'proxy module alone, RSS idle after start', value: idleMb, unit: 'MB' },
      {
        part: 'proxy',
        name: 'proxy module alone, 100 concurrent streams, peak RSS',
        value: peakMb,
        unit: 'MB',
        note: `growth over idle ${(peakMb - idleMb).toFixed(1)} MB`,
      },
      {
        part: 'proxy',
        name: 'load average (1 min) at start / end',
        value: loadavg()[0] ?? 0,
        unit: '',
        note: `${loadAtStart.toFixed(2)} at start; ${cpus().length} cores shared with other work`,
      },
    ];
  } finally {
    await agent.close();
    await proxy.close();
    await upstream.close();
  }
}
