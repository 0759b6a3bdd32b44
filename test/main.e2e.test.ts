import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type FakeUpstream,
  lastUserText,
  messagesOf,
  startFakeUpstream,
  textReply,
} from './fakes/openai-upstream.js';
import { type FakeTelegram, startFakeTelegram } from './fakes/telegram-api.js';

// The relay as a user starts it: `npm start` builds dist/ and runs dist/src/main.js, which reads the environment
// (and .env from the working directory), starts the proxy, the engine and every platform whose token is set.
// The relay is one process (no wrapper), so a kill -9 here really kills the relay.

const root = resolve(import.meta.dirname, '..');
const entry = join(root, 'dist', 'src', 'main.js');

interface Relay {
  child: ChildProcess;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];

function startRelay(cwd: string, env: Record<string, string>): Relay {
  const child = spawn(process.execPath, [entry], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(cwd, 'home'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    // 'close', not 'exit': the output is read to its end by then.
    child.on('close', (code, signal) => done({ code, signal })),
  );
  return { child, output: () => output, exit };
}

function logField(output: string, field: string): unknown {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry: unknown = JSON.parse(line);
    if (typeof entry === 'object' && entry !== null && field in entry) return Reflect.get(entry, field);
  }
  return undefined;
}

function proxyUrl(output: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry: unknown = JSON.parse(line);
    if (typeof entry === 'object' && entry !== null && 'url' in entry && typeof entry.url === 'string') {
      return entry.url;
    }
  }
  return undefined;
}

let dir: string;
beforeAll(() => {
  const built = spawnSync(process.execPath, [
    join(root, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(root, 'tsconfig.build.json'),
  ]);
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stdout}${built.stderr}`);
  dir = mkdtempSync(join(tmpdir(), 'relay-main-'));
  mkdirSync(join(dir, 'home'));
  mkdirSync(join(dir, 'shared-notes'));
});
afterAll(() => {
  // Whatever a failed test left running goes too.
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('refuses a bad setting with one line naming the variable, and exit code 1', async () => {
    const relay = startRelay(dir, { PORT: 'eighty' });
    const { code } = await relay.exit;
    expect(code).toBe(1);
    expect(relay.output().trim()).toBe(
      "Configuration error: PORT: must be a whole number from 0 to 65535, got 'eighty'",
    );
  });

  it('refuses a project folder that does not exist', async () => {
    const relay = startRelay(dir, { PROJECTS: 'app=./no-such-folder' });
    expect((await relay.exit).code).toBe(1);
    expect(relay.output().trim()).toBe(
      `Configuration error: PROJECTS: ${join(dir, 'no-such-folder')} does not exist`,
    );
  });

  it('never prints a secret, even in a refused setting that echoes it, and refuses an open HOST without a token', async () => {
    const leaky = startRelay(dir, {
      NVIDIA_NIM_API_KEY: 'nvapi-do-not-print-me',
      NVIDIA_NIM_BASE_URL: 'ftp://mirror/nvapi-do-not-print-me',
    });
    expect((await leaky.exit).code).toBe(1);
    expect(leaky.output().trim()).toBe(
      "Configuration error: NVIDIA_NIM_BASE_URL: must be an http(s) URL, got 'ftp://mirror/[redacted]'",
    );
    const open = startRelay(dir, { HOST: '0.0.0.0', PORT: '0' });
    expect((await open.exit).code).toBe(1);
    expect(open.output().trim()).toMatch(
      /^Configuration error: PROXY_AUTH_TOKEN: is required because HOST=0\.0\.0\.0 is reachable from other machines/,
    );
  });

  it('with no bot token prints the web console’s address first, serves it, and stops on SIGTERM', async () => {
    const relay = startRelay(dir, {
      PORT: '0',
      SESSION_STORE_URL: 'sqlite://./console-store/sessions.sqlite',
    });
    await vi.waitFor(() => expect(relay.output()).toContain('ANTHROPIC_BASE_URL='), { timeout: 30_000 });
    const url = proxyUrl(relay.output());
    const printed = relay
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('{'));
    expect(printed[0]).toBe(`Web console: ${url}/ui/  (type a task there)`);
    // Served from the built relay (dist/), with its script and style, and nothing from elsewhere.
    const page = await fetch(`${url}/ui/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<label for="message" class="visually-hidden">Message</label>');
    expect((await fetch(`${url}/ui/console.js`)).status).toBe(200);
    relay.child.kill('SIGTERM');
    expect((await relay.exit).code).toBe(0);
  });

  it('with no messaging token and WEB_CONSOLE=false runs the proxy alone, says how to point claude at it, and stops on SIGTERM', async () => {
    const relay = startRelay(dir, { PORT: '0', MESSAGING_PLATFORM: '', WEB_CONSOLE: 'false' });
    await vi.waitFor(() => expect(relay.output()).toContain('ANTHROPIC_BASE_URL='), { timeout: 30_000 });
    const url = proxyUrl(relay.output());
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // What the socket is really bound to, as the OS says: loopback only unless HOST says otherwise.
    expect(logField(relay.output(), 'bound')).toBe(`127.0.0.1:${new URL(url ?? '').port}`);
    expect(relay.output()).toContain(`ANTHROPIC_BASE_URL=${url} `);
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(relay.output()).not.toContain('Web console');
    expect((await fetch(`${url}/ui/`)).status).toBe(404);
    relay.child.kill('SIGTERM');
    expect((await relay.exit).code).toBe(0);
  });

  it('reads .env from its working directory, the real environment winning where both set a variable', async () => {
    const upstream = await startFakeUpstream(() => textReply('from the upstream .env names'));
    const cwd = join(dir, 'with-dotenv');
    mkdirSync(join(cwd, 'home'), { recursive: true });
    writeFileSync(
      join(cwd, '.env'),
      [
        '# as a user writes it',
        'PORT=0',
        'PROVIDER_TYPE=openai',
        `OPENAI_BASE_URL="${upstream.url}"`,
        'OPENAI_API_KEY=sk-from-dotenv',
        'MODEL=model-from-dotenv',
        'MODEL_HAIKU=haiku-from-dotenv',
        'MESSAGING_PLATFORM=none',
      ].join('\n'),
    );
    const relay = startRelay(cwd, { MODEL_HAIKU: 'haiku-from-environment' });
    try {
      await vi.waitFor(() => expect(proxyUrl(relay.output())).toBeDefined(), { timeout: 30_000 });
      const url = proxyUrl(relay.output()) ?? '';
      for (const model of ['claude-sonnet-4-5', 'claude-haiku-4-5']) {
        const answer = await fetch(`${url}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
        });
        expect(answer.status).toBe(200);
      }
      // Both reached the upstream .env names, with its key; the haiku tier's model came from the environment.
      expect(upstream.requests.map((request) => (request.body as { model: string }).model)).toEqual([
        'model-from-dotenv',
        'haiku-from-environment',
      ]);
      expect(upstream.requests[0]?.headers.authorization).toBe('Bearer sk-from-dotenv');
    } finally {
      relay.child.kill('SIGTERM');
      await relay.exit;
      await upstream.close();
    }
  });

  it('refuses a bot token Telegram refuses: one line naming TELEGRAM_BOT_TOKEN, exit code 1', async () => {
    const telegram = await startFakeTelegram();
    try {
      const relay = startRelay(dir, {
        PORT: '0',
        MESSAGING_PLATFORM: 'telegram',
        TELEGRAM_BOT_TOKEN: '123456:MISTYPED',
        TELEGRAM_API_ROOT: telegram.apiRoot,
        ALLOWED_TELEGRAM_USER_ID: '1001',
        SESSION_STORE_URL: 'sqlite://./refused-token/sessions.sqlite',
      });
      const { code } = await relay.exit;
      expect(code).toBe(1);
      expect(relay.output().split('\n')).toContain(
        'Messaging error: Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): copy the token @BotFather gave you',
      );
      expect(relay.output()).not.toContain('123456:MISTYPED');
    } finally {
      await telegram.close();
    }
  });

  it('with GATEWAY_PORT and no bot, serves the API gateway over the real CLI, proxy and provider', async () => {
    const upstream = await startFakeUpstream(() => textReply('Gateway answer.', { chunkSize: 4 }));
    try {
      const relay = startRelay(dir, {
        PORT: '0',
        GATEWAY_PORT: '0',
        GATEWAY_API_KEYS: 'gw-key-0123456789abcdef',
        PROVIDER_TYPE: 'openai',
        OPENAI_BASE_URL: upstream.url,
        MODEL: 'fake-model',
        SESSION_STORE_URL: 'sqlite://./gateway-store/sessions.sqlite',
      });
      await vi.waitFor(() => expect(relay.output()).toContain('API gateway listening'), { timeout: 30_000 });
      const gatewayLine = relay
        .output()
        .split('\n')
        .find((line) => line.includes('API gateway listening'));
      const gatewayUrl = logField(gatewayLine ?? '', 'url');
      const response = await fetch(`${gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer gw-key-0123456789abcdef', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'hello' }] }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ choices: [{ message: { content: 'Gateway answer.' } }] });
      expect(relay.output()).not.toContain('gw-key-0123456789abcdef');
      relay.child.kill('SIGTERM');
      expect((await relay.exit).code).toBe(0);
    } finally {
      await upstream.close();
    }
  });

  describe('with a Telegram token', () => {
    const secrets = {
      upstreamKey: 'sk-upstream-0123456789-SECRET',
      proxyToken: 'proxy-token-9876543210-SECRET',
    };
    let telegram: FakeTelegram;
    let upstream: FakeUpstream;
    let relay: Relay;

    beforeAll(async () => {
      telegram = await startFakeTelegram();
      upstream = await startFakeUpstream(() => textReply('The answer is 42.', { chunkSize: 4 }));
      relay = startRelay(dir, {
        PORT: '0',
        PROXY_AUTH_TOKEN: secrets.proxyToken,
        PROVIDER_TYPE: 'openai',
        OPENAI_BASE_URL: upstream.url,
        OPENAI_API_KEY: secrets.upstreamKey,
        MODEL: 'fake-model',
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        ALLOWED_TELEGRAM_USER_ID: '1001',
        CLAUDE_WORKSPACE: './my-workspace',
        ALLOWED_DIR: './shared-notes',
        MESSAGING_RATE_WINDOW: '0.2',
        VOICE_NOTE_ENABLED: 'false',
        LOG_LEVEL: 'debug',
      });
      await vi.waitFor(() => expect(telegram.callsOf('getUpdates').length).toBeGreaterThan(0), {
        timeout: 30_000,
      });
    });
    afterAll(async () => {
      relay.child.kill('SIGKILL');
      await telegram.close();
      await upstream.close();
    });

    it('answers an allowed user through the real CLI, the proxy and the provider, and ignores a stranger', async () => {
      telegram.sendUserMessage({ userId: 999, text: 'let me in' });
      const { chatId } = telegram.sendUserMessage({ userId: 1001, text: 'What is the answer?' });
      await vi.waitFor(
        () => {
          const texts = telegram.botMessages(chatId).map((message) => message.history.at(-1) ?? '');
          expect(texts.join('\n')).toContain('The answer is 42.');
        },
        { timeout: 60_000, interval: 200 },
      );
      expect(telegram.botMessages(999)).toEqual([]);
      // The session ran in ALLOWED_DIR's first entry (free-claude-code's meaning), relative to where the relay started.
      const sent = JSON.stringify(upstream.requests.at(-1)?.body);
      expect(sent).toContain(`Primary working directory: ${join(dir, 'shared-notes')}`);
      // The provider got the key; the CLI got the proxy token (a request without it would have been refused).
      const authorization = upstream.requests.at(-1)?.headers.authorization;
      expect(authorization).toBe(`Bearer ${secrets.upstreamKey}`);
    });

    it('saves a file sent with a task in the workspace and names it in the prompt', async () => {
      const { chatId } = telegram.sendUserMessage({
        userId: 1001,
        caption: 'what does this log say?',
        document: {
          data: new TextEncoder().encode('ERROR disk full\n'),
          mimeType: 'text/plain',
          fileName: 'app.log',
        },
      });
      await vi.waitFor(
        () =>
          expect(JSON.stringify(upstream.requests.map((r) => r.body))).toContain('what does this log say?'),
        { timeout: 60_000, interval: 200 },
      );
      const sent = JSON.stringify(upstream.requests.at(-1)?.body);
      // Saved in the relay's own folder (CLAUDE_WORKSPACE, created relative to where the relay started) and,
      // as the session works in ALLOWED_DIR, named by its whole path.
      const saved = /Attached: (\/[^ ]+\/attachments\/[^ ]+\/app\.log)/.exec(sent)?.[1];
      expect(saved?.startsWith(`${join(dir, 'my-workspace')}/attachments/`)).toBe(true);
      expect(readFileSync(saved!, 'utf8')).toBe('ERROR disk full\n');
      await vi.waitFor(
        () => expect(JSON.stringify(telegram.botMessages(chatId))).toContain('The answer is 42.'),
        {
          timeout: 60_000,
        },
      );
    });

    it('stops cleanly on SIGTERM and never logs a secret', async () => {
      relay.child.kill('SIGTERM');
      const { code } = await relay.exit;
      expect(code).toBe(0);
      const output = relay.output();
      expect(output.length).toBeGreaterThan(0);
      const chat = telegram
        .botMessages()
        .flatMap((message) => message.history)
        .join('\n');
      for (const secret of [secrets.upstreamKey, secrets.proxyToken, telegram.token]) {
        expect(output).not.toContain(secret);
        expect(chat).not.toContain(secret);
      }
    });
  });

  it('after kill -9 mid-task, a restart tells the chat the task was interrupted, and a reply to that notice continues it', async () => {
    const telegram = await startFakeTelegram();
    const upstream = await startFakeUpstream((request) => {
      const text = lastUserText(request.body);
      if (text.includes('continue please')) {
        const history = JSON.stringify(messagesOf(request.body));
        return textReply(
          history.includes('refactor the parser') ? 'Continuing the parser refactor.' : 'No history.',
        );
      }
      // The first task streams for a long time: the relay is killed in the middle of it.
      return textReply('Working on it. '.repeat(40), { chunkSize: 2, delayMs: 150 });
    });
    const env = {
      PORT: '0',
      PROVIDER_TYPE: 'openai',
      OPENAI_BASE_URL: upstream.url,
      MODEL: 'fake-model',
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      ALLOWED_TELEGRAM_USER_ID: '1001',
      MESSAGING_RATE_WINDOW: '0.2',
      SESSION_STORE_URL: 'sqlite://./restart-store/sessions.sqlite',
      CLAUDE_WORKSPACE: './restart-workspace',
    };
    try {
      const first = startRelay(dir, env);
      const { chatId } = await (async () => {
        await vi.waitFor(() => expect(telegram.callsOf('getUpdates').length).toBeGreaterThan(0), {
          timeout: 30_000,
        });
        return telegram.sendUserMessage({ userId: 1001, text: 'refactor the parser' });
      })();
      await vi.waitFor(
        () => expect(JSON.stringify(telegram.botMessages(chatId))).toContain('Working on it.'),
        {
          timeout: 60_000,
          interval: 200,
        },
      );
      // bubblewrap is installed (here and by .ci/run), so the sessions are sandboxed, and the start says so.
      expect(first.output()).toContain(
        'Sandbox on: commands write only in the session directories and reach no network',
      );
      first.child.kill('SIGKILL');
      await first.exit;

      const second = startRelay(dir, env);
      try {
        const notice = await vi.waitFor(
          () => {
            const found = telegram
              .botMessages(chatId)
              .find((m) => (m.history.at(-1) ?? '').includes('interrupted'));
            expect(found).toBeDefined();
            return found!;
          },
          { timeout: 60_000, interval: 200 },
        );
        expect(notice.history.at(-1)).toContain('refactor the parser');
        telegram.sendUserMessage({ userId: 1001, text: 'continue please', replyTo: notice.messageId });
        await vi.waitFor(
          () =>
            expect(JSON.stringify(telegram.botMessages(chatId))).toContain('Continuing the parser refactor.'),
          { timeout: 60_000, interval: 200 },
        );
      } finally {
        second.child.kill('SIGTERM');
        await second.exit;
      }
    } finally {
      await telegram.close();
      await upstream.close();
    }
  });
});
