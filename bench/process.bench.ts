import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { startFakeTelegram } from '../test/fakes/telegram-api.js';
import { BODY_FILE, startUpstreamProcess } from './proxy.bench.js';
import type { BenchRow } from './types.js';

// The memory of the process users run: `npm start` is `node dist/src/main.js`, measured by its own /proc status
// (RSS idle after start, and the peak, VmHWM, after 100 concurrent streams through its proxy): the proxy alone (no
// bot token, no console), the default with no bot (the web console, so the session engine), and with a chat
// platform (Telegram, against the fake Bot API). The CLI processes a task would start are not part of it: none runs here.

const root = resolve(import.meta.dirname, '..');
const MiB = 2 ** 20;

interface Relay {
  url: string;
  rssMb(field: 'VmRSS' | 'VmHWM'): Promise<number>;
  stop(): Promise<void>;
}

async function startRelay(cwd: string, env: Record<string, string>): Promise<Relay> {
  const child: ChildProcess = spawn(process.execPath, [join(root, 'dist/src/main.js')], {
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
async function hundredStreams(url: string, body: Buffer): Promise<void> {
  const agent = new Agent({ connections: 128 });
  try {
    const one = async () => {
      const res = await request(`${url}/v1/messages?beta=true`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', authorization: 'Bearer relay' },
        dispatcher: agent,
      });
      for await (const _chunk of res.body) {
        // Read to the end, as the CLI does.
      }
      if (res.statusCode !== 200) throw new Error(`the proxy answered ${res.statusCode}`);
    };
    await Promise.all(Array.from({ length: 100 }, one));
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
  try {
    const measure = async (label: string, env: Record<string, string>, idleTarget?: number) => {
      const relay = await startRelay(dir, { ...common, ...env });
      try {
        await settle();
        const idle = await relay.rssMb('VmRSS');
        await hundredStreams(relay.url, body);
        const peak = await relay.rssMb('VmHWM');
        rows.push({
          part: 'process',
          name: `npm start, ${label}: RSS idle after start`,
          value: idle,
          unit: 'MiB',
          ...(idleTarget === undefined ? {} : { target: `≤ ${idleTarget} MiB`, ok: idle <= idleTarget }),
        });
        rows.push({
          part: 'process',
          name: `npm start, ${label}: peak RSS, 100 concurrent streams`,
          value: peak,
          unit: 'MiB',
          target: '< 150 MiB',
          ok: peak < 150,
          note: `growth over idle ${(peak - idle).toFixed(1)} MiB`,
        });
      } finally {
        await relay.stop();
      }
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
