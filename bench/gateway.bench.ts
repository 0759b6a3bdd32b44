import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { GATEWAY_PLATFORM, startGateway } from '../src/gateway/index.js';
import { createLogger } from '../src/log.js';
import { lastUserText, startFakeUpstream, textReply } from '../test/fakes/openai-upstream.js';
import { startE2eRig } from '../test/sessions/e2e-rig.js';
import type { Bench, BenchRow } from './types.js';

// The API gateway as a client sees it, with the real `claude` CLI through the embedded proxy to a scripted
// provider on loopback that answers at once: the first streamed token of a new conversation, with a CLI started
// for it (cold) and with one pre-started (GATEWAY_PRESTART), measured alternately; 30 requests at once through a
// pool of 10; the memory of one running CLI and of one waiting.

const KEY = 'bench-key-0123456789';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Resident memory of a process, in MB, from /proc (Linux). */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function firstToken(url: string, prompt: string): Promise<{ firstMs: number; totalMs: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: prompt }] }),
  });
  const reader = response.body?.getReader();
  let firstMs = Number.NaN;
  let text = '';
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    text += Buffer.from(chunk.value).toString();
    if (Number.isNaN(firstMs) && text.includes('"content":"A')) firstMs = performance.now() - started;
  }
  return { firstMs, totalMs: performance.now() - started };
}

/** Waits (up to 20 s) until a pre-started CLI waits; false if none came. */
async function untilPrestarted(count: () => number): Promise<boolean> {
  for (let waited = 0; waited < 20_000; waited += 100) {
    if (count() > 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

const bench: Bench = async () => {
  const upstream = await startFakeUpstream((req) =>
    textReply(`Answer to ${lastUserText(req.body).length} characters.`, {
      chunkSize: 4,
      delayMs: lastUserText(req.body).includes('hold') ? 300 : 0,
    }),
  );
  const rig = await startE2eRig(upstream);
  const engine = rig.engine({ maxSessions: 10 });
  await engine.start();
  const base = loadConfig(
    { GATEWAY_PORT: '0', GATEWAY_API_KEYS: KEY, GATEWAY_STREAM: 'all' },
    rig.dir,
  ).gateway;
  if (base === undefined) throw new Error('no gateway config');
  const gateway = await startGateway({
    config: { ...base, queueMax: 50 },
    host: '127.0.0.1',
    engine,
    logger: createLogger('silent', []),
  });
  const warmEngine = rig.engine(
    { storeUrl: `sqlite://${rig.dir}/warm.sqlite` },
    { prestart: { count: 1, platform: GATEWAY_PLATFORM } },
  );
  await warmEngine.start();
  const warmGateway = await startGateway({
    config: { ...base, queueMax: 50 },
    host: '127.0.0.1',
    engine: warmEngine,
    logger: createLogger('silent', []),
  });
  const rows: BenchRow[] = [];
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    let waitingMb = Number.NaN;
    await firstToken(warmGateway.url, 'the first one starts cold');
    for (let i = 0; i < 7; i++) {
      cold.push((await firstToken(gateway.url, `cold ${i}`)).firstMs);
      const waiting = await untilPrestarted(() => warmEngine.stats().prestarted ?? 0);
      if (i === 0) waitingMb = Math.max(...rig.cliPids().map(rssMb));
      warm.push(waiting ? (await firstToken(warmGateway.url, `warm ${i}`)).firstMs : Number.NaN);
    }
    rows.push({
      part: 'gateway',
      name: 'first streamed token of a new conversation, CLI started for it (cold)',
      value: median(cold),
      unit: 'ms',
    });
    rows.push({
      part: 'gateway',
      name: 'first streamed token of a new conversation, pre-started CLI',
      value: median(warm),
      unit: 'ms',
      target: '< 100 (the provider answers at once)',
      ok: median(warm) < 100,
    });
    rows.push({
      part: 'gateway',
      name: 'memory of one pre-started CLI waiting (RSS)',
      value: waitingMb,
      unit: 'MB',
    });

    let peakCliMb = 0;
    const sampler = setInterval(() => {
      const pids = rig.cliPids();
      for (const pid of pids) {
        try {
          peakCliMb = Math.max(peakCliMb, rssMb(pid));
        } catch {
          // The CLI ended between the listing and the read.
        }
      }
    }, 100);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => firstToken(gateway.url, `hold ${i}`).catch(() => null)),
    );
    clearInterval(sampler);
    const answered = results.filter((result) => result !== null && !Number.isNaN(result.firstMs));
    rows.push({
      part: 'gateway',
      name: '30 requests at once through a pool of 10: answered',
      value: answered.length,
      unit: `of 30 in ${Math.round(performance.now() - started)} ms`,
      target: '30',
      ok: answered.length === 30,
    });
    rows.push({
      part: 'gateway',
      name: '30 at once: median time to the whole answer',
      value: median(answered.map((result) => result?.totalMs ?? Number.NaN)),
      unit: 'ms',
    });
    rows.push({
      part: 'gateway',
      name: 'memory of one running claude CLI (peak RSS)',
      value: peakCliMb,
      unit: 'MB',
    });
  } finally {
    await warmGateway.close();
    await gateway.close();
    await rig.close();
  }
  return rows;
};

export default bench;
