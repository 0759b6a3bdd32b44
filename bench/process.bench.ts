import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { startFakeTelegram } from '../test/fakes/telegram-api.js';
import { BODY_FILE, startUpstreamProcess } from './proxy.bench.js';
import type { BenchRow } from './types.js';

// The memory of the process users run: the command of `npm start`, read from package.json with its node flags,
// measured by its own /proc status (RSS idle after start, and the peak, VmHWM, after 100 concurrent streams through
// its proxy): the proxy alone (no bot token, no console), the default with no bot (the web console, so the session
// engine), and with a chat platform (Telegram, against the fake Bot API). The CLI processes a task would start are
// not part of it: none runs here. The shipped flags (a smaller young generation) are measured side by side with
// node's defaults, alternating, so the memory they save and what they cost in time to first byte are one run's.

const root = resolve(import.meta.dirname, '..');
const MiB = 2 ** 20;
const ROUNDS = 5;

/** `npm start`'s node flags and entry, from package.json, so the bench runs exactly what users run. */
function startCommand(): { flags: string[]; entry: string } {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [node, ...rest] = pkg.scripts.start.split(/\s+/);
  const entry = rest.pop();
  if (node !== 'node' || entry === undefined)
    throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return { flags: rest, entry: join(root, entry) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

interface Relay {
  url: string;
  rssMb(field: 'VmRSS' | 'VmHWM'): Promise<number>;
  stop(): Promise<void>;
}

async function startRelay(cwd: string, env: Record<string, string>, nodeFlags: string[]): Promise<Relay> {
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, startCommand().entry], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let seen = '';
    child.once('exit', (code) => reject(new Error(`the relay exited (${code}):\n${seen}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const found = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(seen)?.[1];
      // Ready when it has said everything it says at start: the proxy-only help, or the bot's first poll.
      if (found !== undefined && /Point Claude Code at it|connected|polling|started/i.test(seen))
        resolveUrl(found);
    });
  });
  return {
    url,
    async rssMb(field) {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return (Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024) / MiB;
    },
    stop: () =>
      new Promise((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

/** 100 streams at once through the relay's proxy, each the CLI's real request body; all must succeed. */
async function hundredStreams(url: string, body: Buffer): Promise<{ medianFirstByteMs: number }> {
  const agent = new Agent({ connections: 128 });
  const firstBytes: number[] = [];
  try {
    const one = async () => {
      const sent = performance.now();
      const res = await request(`${url}/v1/messages?beta=true`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', authorization: 'Bearer relay' },
        dispatcher: agent,
      });
      let first = true;
      for await (const _chunk of res.body) {
        // Read to the end, as the CLI does.
        if (first) firstBytes.push(performance.now() - sent);
        first = false;
      }
      if (res.statusCode !== 200) throw new Error(`the proxy answered ${res.statusCode}`);
    };
    await Promise.all(Array.from({ length: 100 }, one));
    return { medianFirstByteMs: median(firstBytes) };
  } finally {
    await agent.close();
  }
}

const settle = () => new Promise((done) => setTimeout(done, 2000));

export default async function processBench(): Promise<BenchRow[]> {
  const built = spawnSync(process.execPath, [
    join(root, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(root, 'tsconfig.build.json'),
  ]);
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stdout}${built.stderr}`);
  const recorded = JSON.parse(readFileSync(BODY_FILE, 'utf8')) as { body: Record<string, unknown> };
  const body = Buffer.from(JSON.stringify({ ...recorded.body, stream: true }));
  const upstream = await startUpstreamProcess();
  const telegram = await startFakeTelegram();
  const dir = mkdtempSync(join(tmpdir(), 'bench-process-'));
  const common = {
    PORT: '0',
    PROVIDER_TYPE: 'openai',
    OPENAI_BASE_URL: upstream.url,
    MODEL: 'fake-model',
    PROVIDER_RATE_LIMIT: '1000000',
    PROVIDER_MAX_CONCURRENCY: '1000',
    LOG_LEVEL: 'info',
  };
  const rows: BenchRow[] = [];
  const shipped = startCommand().flags;
  const once = async (env: Record<string, string>, flags: string[]) => {
    const relay = await startRelay(dir, { ...common, ...env }, flags);
    try {
      await settle();
      const idle = await relay.rssMb('VmRSS');
      const { medianFirstByteMs } = await hundredStreams(relay.url, body);
      return { idle, peak: await relay.rssMb('VmHWM'), firstByte: medianFirstByteMs };
    } finally {
      await relay.stop();
    }
  };
  try {
    const measure = async (label: string, env: Record<string, string>, idleTarget?: number) => {
      const withFlags: Awaited<ReturnType<typeof once>>[] = [];
      const defaults: Awaited<ReturnType<typeof once>>[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        withFlags.push(await once(env, shipped));
        defaults.push(await once(env, []));
      }
      const idle = median(withFlags.map((run) => run.idle));
      const peak = median(withFlags.map((run) => run.peak));
      const peakDefaults = median(defaults.map((run) => run.peak));
      rows.push({
        part: 'process',
        name: `npm start, ${label}: RSS idle after start`,
        value: idle,
        unit: 'MiB',
        ...(idleTarget === undefined ? {} : { target: `≤ ${idleTarget} MiB`, ok: idle <= idleTarget }),
        note: `median of ${ROUNDS}`,
      });
      rows.push({
        part: 'process',
        name: `npm start, ${label}: peak RSS, 100 concurrent streams`,
        value: peak,
        unit: 'MiB',
        target: '< 150 MiB',
        ok: peak < 150,
        note: `median of ${ROUNDS}; growth over idle ${(peak - idle).toFixed(1)} MiB; node's default flags, alternating: ${peakDefaults.toFixed(1)} MiB`,
      });
      rows.push({
        part: 'process',
        name: `npm start, ${label}: median first byte of 100 concurrent streams, ${shipped.join(' ') || 'no flags'} ÷ node defaults`,
        value: median(withFlags.map((run) => run.firstByte)) / median(defaults.map((run) => run.firstByte)),
        unit: '×',
        note: `${median(withFlags.map((run) => run.firstByte)).toFixed(0)} ms vs ${median(defaults.map((run) => run.firstByte)).toFixed(0)} ms`,
      });
    };
    await measure(
      'proxy only (no bot, WEB_CONSOLE=false)',
      { MESSAGING_PLATFORM: 'none', WEB_CONSOLE: 'false' },
      80,
    );
    await measure('no bot, web console on (the default)', { MESSAGING_PLATFORM: 'none' });
    await measure('with Telegram (engine, chat, voice on)', {
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      ALLOWED_TELEGRAM_USER_ID: '1001',
      SESSION_STORE_URL: `sqlite://${join(dir, 'sessions.sqlite')}`,
      CLAUDE_WORKSPACE: join(dir, 'workspace'),
    });
  } finally {
    await upstream.close();
    await telegram.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
