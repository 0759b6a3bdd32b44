import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textReply, toolCallReply, toolResults } from '../fakes/openai-upstream.js';
import { requireToolsInCi } from '../require-tools.js';
import { WHISPER_TESTDATA_DIR } from '../shared-dir.js';
import {
  CHROMIUM,
  type ConsoleRelay,
  type Forwarder,
  gate,
  launchChromium,
  startConsoleRelay,
  startForwarder,
} from './console-rig.js';

// The web console in a real headless Chromium, over the relay as `npm start` runs it with no bot token: the
// real `claude` through the embedded proxy to a scripted provider. Each test is what a person at the page does.

const missing = existsSync(CHROMIUM) ? [] : ['chromium'];
requireToolsInCi(missing);

/** The README's picture: written by this test when UPDATE_SCREENSHOT=1, so a plain test run leaves the tree clean. */
const screenshot =
  process.env.UPDATE_SCREENSHOT === '1'
    ? resolve(import.meta.dirname, '../../docs/console.png')
    : join(tmpdir(), `console-${process.pid}.png`);
const HOSTILE = '<img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script>';

const firstAnswer = gate();
const stopped = gate();
const dropped = gate();
const replies = {
  'WEB-FIRST': () => ({
    ...textReply(
      '**Answer one**, with a table:\n\n| name | value |\n|---|---|\n| `x` | 1 < 2 |\n\n```js\nconst x = 1 < 2;\n```',
    ),
    pause: { after: 1, until: firstAnswer.opened },
  }),
  'WEB-FORK': () => textReply('Fork answer: I remember the first task.'),
  'WEB-XSS': () => textReply(`Hostile: ${HOSTILE} and \`${HOSTILE}\``),
  'WEB-STOP': () => ({ ...textReply('never seen'), pause: { after: 1, until: stopped.opened } }),
  'WEB-API': () => textReply('Answered for the API.'),
  'WEB-STEPS': (request: { body: unknown }) =>
    toolResults(request.body).length === 0
      ? toolCallReply([{ name: 'Bash', arguments: { command: 'echo WEB_STEPS_OUT', description: 'Say it' } }])
      : textReply('Steps answer: the command worked.'),
  'WEB-LATER': () => textReply('A later answer.'),
  'WEB-DROP': () => ({
    ...textReply('Answer written while the page was away.'),
    pause: { after: 1, until: dropped.opened },
  }),
};

describe.skipIf(missing.length > 0)('the web console', () => {
  let relay: ConsoleRelay;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const task = (marker: string) => page.getByRole('article').filter({ hasText: marker }).first();

  beforeAll(async () => {
    relay = await startConsoleRelay({
      replies,
      env: { GATEWAY_PORT: '0', GATEWAY_API_KEYS: 'gw-key-0123456789abcdef' },
    });
    const chromium = await launchChromium();
    browser = chromium.browser;
    context = await chromium.newContext();
    page = await context.newPage();
    await page.goto(`${relay.url}/ui/`);
  }, 90_000);
  afterAll(async () => {
    firstAnswer.open();
    stopped.open();
    dropped.open();
    await browser?.close();
    await relay?.stop();
  });

  it('shows a typed task live (status, then the whole answer with Markdown rendered); Shift+Enter is a new line', async () => {
    // No token set: no login asked for.
    expect(await page.getByRole('button', { name: 'Log in' }).isVisible()).toBe(false);
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('WEB-FIRST what is');
    await composer.press('Shift+Enter');
    await composer.pressSequentially('the answer?');
    expect(await composer.inputValue()).toBe('WEB-FIRST what is\nthe answer?');
    await composer.press('Enter');
    await expect.poll(() => composer.inputValue()).toBe('');
    const article = task('WEB-FIRST');
    // Held upstream: the status is what shows, updated live.
    await expect.poll(() => article.innerText(), { timeout: 60_000 }).toContain('Running');
    expect(await article.innerText()).not.toContain('Answer one');
    await expect.poll(() => article.getByRole('button', { name: 'Stop', exact: true }).count()).toBe(1);
    firstAnswer.open();
    // The status previews the answer as it streams; the whole answer then replaces it, Markdown rendered.
    await expect
      .poll(() => article.locator('table td').allInnerTexts(), { timeout: 60_000 })
      .toEqual(['x', '1 < 2']);
    expect(await article.locator('strong', { hasText: 'Answer one' }).count()).toBe(1);
    expect(await article.locator('pre code').innerText()).toBe('const x = 1 < 2;');
    await expect.poll(() => article.getByRole('button', { name: 'Stop', exact: true }).count()).toBe(0);
  }, 120_000);

  it('Reply forks the conversation with its history, and the tree shows the branch', async () => {
    const first = task('WEB-FIRST');
    await first.locator('.message.relay').getByRole('button', { name: 'Reply', exact: true }).last().click();
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('WEB-FORK go on');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => task('WEB-FORK').innerText(), { timeout: 60_000 }).toContain('Fork answer');
    // The provider saw the parent's turn in the fork's conversation.
    expect(relay.carries('WEB-FORK', 'WEB-FIRST')).toBe(true);
    expect(relay.carries('WEB-FORK', 'Answer one')).toBe(true);
    const tree = page.getByRole('navigation', { name: 'Conversations' });
    const branch = tree.locator('li:has(> button:has-text("WEB-FIRST")) > ul > li > button');
    await expect.poll(() => branch.allInnerTexts()).toEqual([expect.stringContaining('WEB-FORK')]);
    mkdirSync(resolve(screenshot, '..'), { recursive: true });
    await page.setViewportSize({ width: 1100, height: 700 });
    await page.screenshot({ path: screenshot });
  }, 120_000);

  it('renders hostile model output and file names as text, never as markup', async () => {
    await page.locator('#files').setInputFiles({
      name: '<img src=x onerror="window.__pwned=3">.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello'),
    });
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill(`WEB-XSS ${HOSTILE}`);
    await composer.press('Enter');
    const article = task('WEB-XSS');
    await expect.poll(() => article.innerText(), { timeout: 60_000 }).toContain('Hostile:');
    const text = await article.innerText();
    expect(text).toContain('<img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script>');
    expect(text).toContain('<img src=x onerror="window.__pwned=3">.txt');
    expect(await page.locator('#feed img, #feed script').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    // The file went with the task: saved in the workspace (under a safe name) and named in the prompt.
    expect(JSON.stringify(relay.requestsFor('WEB-XSS'))).toMatch(
      /Attached: attachments\/[^"]*\.txt \(text\/plain/,
    );
  }, 120_000);

  it('Stop stops a running task', async () => {
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('WEB-STOP take your time');
    await composer.press('Enter');
    const article = task('WEB-STOP');
    await expect.poll(() => article.innerText(), { timeout: 60_000 }).toContain('Running');
    await article.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect.poll(() => article.innerText(), { timeout: 30_000 }).toContain('Stopped');
    await expect.poll(() => article.getByRole('button', { name: 'Stop', exact: true }).count()).toBe(0);
    expect(await article.innerText()).not.toContain('never seen');
  }, 120_000);

  it('a finished task’s steps sit in a fold under the answer that stays open while the page updates', async () => {
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('WEB-STEPS run it');
    await composer.press('Enter');
    const article = task('WEB-STEPS');
    await expect.poll(() => article.innerText(), { timeout: 60_000 }).toContain('Steps answer');
    const fold = article.locator('details.steps');
    await expect.poll(() => fold.count(), { timeout: 30_000 }).toBe(1);
    // Under the answer, closed: the tool log is there but not in the way; no button to press for it.
    expect(await article.getByRole('button', { name: 'Show steps' }).count()).toBe(0);
    expect(await fold.getAttribute('open')).toBeNull();
    expect(await fold.locator('summary').innerText()).toBe('Show steps');
    const answer = await article.locator('.message.relay .body').last().textContent();
    expect(answer?.indexOf('Steps answer')).toBeLessThan(answer?.indexOf('WEB_STEPS_OUT') ?? -1);
    await fold.locator('summary').click();
    await expect.poll(() => fold.innerText()).toContain('echo WEB_STEPS_OUT → WEB_STEPS_OUT');
    // Another task runs: the feed is rebuilt with each of its updates, and the open fold stays open.
    await composer.fill('WEB-LATER and now?');
    await composer.press('Enter');
    await expect.poll(() => task('WEB-LATER').innerText(), { timeout: 60_000 }).toContain('A later answer');
    expect(await fold.getAttribute('open')).not.toBeNull();
    expect(await fold.innerText()).toContain('WEB_STEPS_OUT');
    // Closed again by the user, as a newly loaded tab shows it (later tests compare two tabs).
    await fold.locator('summary').click();
    await expect.poll(() => fold.getAttribute('open')).toBeNull();
  }, 120_000);

  it('loses nothing and doubles nothing when the connection drops, nor on a reload', async () => {
    const forwarder: Forwarder = await startForwarder(relay.url);
    try {
      const away = await context.newPage();
      await away.goto(`${forwarder.url}/ui/`);
      const composer = away.getByRole('textbox', { name: 'Message' });
      await composer.fill('WEB-DROP work while I am away');
      await composer.press('Enter');
      const article = away.getByRole('article').filter({ hasText: 'WEB-DROP' });
      await expect.poll(() => article.innerText(), { timeout: 60_000 }).toContain('Running');
      forwarder.drop();
      dropped.open();
      // The answer is written while the page cannot hear it (asked of the relay directly).
      await expect
        .poll(async () => JSON.stringify(await (await fetch(`${relay.url}/ui/api/state`)).json()), {
          timeout: 60_000,
        })
        .toContain('Answer written while the page was away.');
      expect(await article.innerText()).not.toContain('Answer written');
      forwarder.restore();
      await expect.poll(() => article.innerText(), { timeout: 30_000 }).toContain('Answer written');
      expect(await away.getByRole('article').filter({ hasText: 'WEB-DROP' }).count()).toBe(1);
      expect(await away.locator('.message', { hasText: 'Answer written' }).count()).toBe(1);
      // Its state caught up too: done, nothing left to stop.
      await expect.poll(() => article.getByRole('button', { name: 'Stop', exact: true }).count()).toBe(0);
      expect(await article.innerText()).toContain('done');
      const before = await away.locator('#feed').innerText();
      // Every page shows the same: the first tab, and this one reloaded.
      await away.reload();
      await expect.poll(() => away.locator('#feed').innerText()).toBe(before);
      await expect.poll(() => page.locator('#feed').innerText()).toBe(before);
      await away.close();
    } finally {
      await forwarder.close();
    }
  }, 120_000);

  it('shows conversations of other origins in the tree, labelled and read-only', async () => {
    const gateway = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*API gateway listening/.exec(
      relay.output(),
    )?.[1];
    const answer = await fetch(`${gateway}/chat`, {
      method: 'POST',
      headers: { authorization: 'Bearer gw-key-0123456789abcdef', 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'WEB-API what now?' }),
    });
    expect(await answer.json()).toMatchObject({ text: 'Answered for the API.' });
    const node = page
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('button', { name: /WEB-API/ });
    await expect.poll(() => node.innerText()).toContain('API gateway, read-only');
    await node.click();
    const view = page.getByRole('region', { name: 'Selected conversation' });
    await expect.poll(() => view.innerText()).toContain('Answered for the API.');
    expect(await view.innerText()).toContain('WEB-API what now?');
    // Not a console task: nothing in the feed to reply to.
    expect(await page.getByRole('article').filter({ hasText: 'WEB-API' }).count()).toBe(0);
  }, 120_000);

  it('Stats answers with the relay’s counters: sessions, queue, tasks, tokens, providers, the gateway', async () => {
    await page.getByRole('button', { name: 'Stats', exact: true }).click();
    const stats = page.getByRole('article').filter({ hasText: 'Relay stats' });
    await expect.poll(() => stats.innerText()).toContain('Sessions: 0 running / 10 max, 0 queued');
    const text = await stats.innerText();
    expect(text).toMatch(/Tasks by state: .*done \d+.*stopped 1/);
    expect(text).toMatch(/Tokens: \d+ in/);
    expect(text).toContain('API gateway: 0 running, 0 queued, 1 answered');
    expect(text).toMatch(/openai/i);
  });

  it('fits a phone: no sideways scrolling, the tree a drawer behind "Conversations"', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 800 });
    await phone.goto(`${relay.url}/ui/`);
    await phone.getByRole('article').first().waitFor();
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const tree = phone.getByRole('navigation', { name: 'Conversations' });
    expect(await tree.isVisible()).toBe(false);
    await phone.getByRole('button', { name: 'Conversations' }).click();
    expect(await tree.isVisible()).toBe(true);
    expect(await phone.getByRole('textbox', { name: 'Message' }).isVisible()).toBe(true);
    await phone.close();
  });

  it('refuses a cross-origin or origin-less POST (403) and a malformed one (400), and adds nothing', async () => {
    const state = async () => JSON.stringify(await (await fetch(`${relay.url}/ui/api/state`)).json());
    const before = await state();
    const send = (headers: Record<string, string>, body: string) =>
      fetch(`${relay.url}/ui/api/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const evil = await send({ origin: 'http://evil.example' }, JSON.stringify({ text: 'WEB-EVIL' }));
    expect(evil.status).toBe(403);
    expect((await send({}, JSON.stringify({ text: 'WEB-EVIL' }))).status).toBe(403);
    const own = { origin: relay.url };
    const bad = await send(own, 'not json');
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'the body must be JSON' }]);
    const empty = await send(own, JSON.stringify({ text: '  ' }));
    expect(empty.status).toBe(400);
    const gone = await send(own, JSON.stringify({ text: 'WEB-EVIL', replyTo: 'r999999' }));
    expect([gone.status, await gone.json()]).toEqual([
      400,
      { error: 'the message you reply to is no longer here (cleared?)' },
    ]);
    expect(await state()).toBe(before);
    expect(relay.requestsFor('WEB-EVIL')).toEqual([]);
  });

  it('/clear typed alone forgets every conversation: the tree empties and the answers go', async () => {
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('/clear');
    await composer.press('Enter');
    const tree = page.getByRole('navigation', { name: 'Conversations' });
    await expect.poll(() => tree.getByRole('button').count(), { timeout: 30_000 }).toBe(0);
    expect(await tree.innerText()).toContain('No conversations yet.');
    // The relay's messages of every task are gone; what the user typed stays, as in the chat apps.
    await expect.poll(() => page.locator('#feed').innerText()).not.toContain('Answer one');
    expect(await page.locator('#feed').innerText()).not.toContain('Fork answer');
    expect(await page.locator('#feed .message.user', { hasText: 'WEB-FIRST' }).count()).toBe(1);
  });
});

describe.skipIf(missing.length > 0)('the web console with PROXY_AUTH_TOKEN', () => {
  const token = 'console-token-0123456789';
  let relay: ConsoleRelay;
  let browser: Browser;

  beforeAll(async () => {
    relay = await startConsoleRelay({ replies: {}, env: { PROXY_AUTH_TOKEN: token } });
    browser = (await launchChromium()).browser;
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await relay?.stop();
  });

  it('gives a wrong token nothing, and the right one a session cookie the page script cannot read', async () => {
    for (const path of ['api/state', 'api/events', 'api/tree']) {
      expect((await fetch(`${relay.url}/ui/${path}`)).status).toBe(401);
    }
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${relay.url}/ui/`);
    await page.getByLabel(/PROXY_AUTH_TOKEN/).fill('not-the-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toBe('wrong token');
    expect(await context.cookies()).toEqual([]);
    expect(await page.getByRole('textbox', { name: 'Message' }).isVisible()).toBe(false);

    await page.getByLabel(/PROXY_AUTH_TOKEN/).fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('textbox', { name: 'Message' }).isVisible()).toBe(true);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(cookie?.value).not.toContain(token);
    expect(await page.evaluate('document.cookie')).toBe('');
    // Asked once: a reload keeps the session.
    await page.reload();
    await expect.poll(() => page.getByRole('textbox', { name: 'Message' }).isVisible()).toBe(true);
    // The proxy's own routes still want the token itself, not the console's cookie.
    const cookieHeader = `${cookie?.name}=${cookie?.value}`;
    expect((await fetch(`${relay.url}/v1/models`, { headers: { cookie: cookieHeader } })).status).toBe(401);
    expect((await fetch(`${relay.url}/ui/api/state`, { headers: { cookie: cookieHeader } })).status).toBe(
      200,
    );
    await context.close();
  }, 60_000);
});

describe.skipIf(missing.length > 0)('the web console after a restart of the relay', () => {
  let browser: Browser;
  let relay: ConsoleRelay | undefined;

  beforeAll(async () => {
    browser = (await launchChromium()).browser;
  });
  afterAll(async () => {
    await browser?.close();
    await relay?.stop();
  });

  it('shows the tasks from the store, and a reply to one still forks it with its history', async () => {
    const replies = {
      'WEB-BEFORE': () => textReply('Answer kept in the store.'),
      'WEB-AFTER': () => textReply('Continued after the restart.'),
    };
    const first = await startConsoleRelay({ replies });
    const page = await browser.newPage();
    await page.goto(`${first.url}/ui/`);
    await page.getByRole('textbox', { name: 'Message' }).fill('WEB-BEFORE remember this');
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    const before = page.getByRole('article').filter({ hasText: 'WEB-BEFORE' });
    await expect.poll(() => before.innerText(), { timeout: 60_000 }).toContain('Answer kept in the store.');
    await first.stop({ keepDir: true });

    relay = await startConsoleRelay({ replies, dir: first.dir });
    await page.goto(`${relay.url}/ui/`);
    const restored = page.getByRole('article').filter({ hasText: 'WEB-BEFORE' });
    await expect.poll(() => restored.innerText()).toContain('Answer kept in the store.');
    await restored.locator('.message.relay').getByRole('button', { name: 'Reply', exact: true }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('WEB-AFTER and now?');
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    const after = page.getByRole('article').filter({ hasText: 'WEB-AFTER' });
    await expect.poll(() => after.innerText(), { timeout: 60_000 }).toContain('Continued after the restart.');
    expect(relay.carries('WEB-AFTER', 'Answer kept in the store.')).toBe(true);
    const tree = page.getByRole('navigation', { name: 'Conversations' });
    await expect
      .poll(() => tree.locator('li:has(> button:has-text("WEB-BEFORE")) > ul > li > button').allInnerTexts())
      .toEqual([expect.stringContaining('WEB-AFTER')]);
  }, 120_000);
});

describe.skipIf(missing.length > 0)('a chat’s /mode and /project after a restart of the relay', () => {
  let browser: Browser;
  let relay: ConsoleRelay | undefined;

  beforeAll(async () => {
    browser = (await launchChromium()).browser;
  });
  afterAll(async () => {
    await browser?.close();
    await relay?.stop();
  });

  it('keeps what the chat chose for its new conversations', async () => {
    const projects = mkdtempSync(join(tmpdir(), 'relay-projects-'));
    mkdirSync(join(projects, 'app'));
    mkdirSync(join(projects, 'site'));
    const env = { PROJECTS: `app=${join(projects, 'app')},site=${join(projects, 'site')}` };
    const first = await startConsoleRelay({ replies: {}, env });
    const page = await browser.newPage();
    const say = async (text: string, expected: string): Promise<void> => {
      const composer = page.getByRole('textbox', { name: 'Message' });
      await composer.fill(text);
      await composer.press('Enter');
      const said = page.getByRole('article').filter({ hasText: text }).last();
      await expect.poll(() => said.innerText(), { timeout: 30_000 }).toContain(expected);
    };
    await page.goto(`${first.url}/ui/`);
    await say('/mode plan', 'now run in plan mode');
    await say('/project site', 'now work in site');
    await first.stop({ keepDir: true });

    relay = await startConsoleRelay({ replies: {}, env, dir: first.dir });
    await page.goto(`${relay.url}/ui/`);
    await say('/mode', 'New conversations here run in plan mode');
    await say('/project', `site: ${join(projects, 'site')} (this chat)`);
  }, 120_000);
});

describe.skipIf(missing.length > 0)('the web console in ask mode (CLAUDE_PERMISSIONS=ask)', () => {
  let relay: ConsoleRelay;
  let browser: Browser;
  const command = 'touch web-allowed.txt # <img src=x onerror="window.__pwned=5">';

  beforeAll(async () => {
    relay = await startConsoleRelay({
      env: { CLAUDE_PERMISSIONS: 'ask' },
      replies: {
        'WEB-ASK': (request) =>
          toolResults(request.body).length === 0
            ? toolCallReply([{ name: 'Bash', arguments: { command, description: 'touch a file' } }])
            : textReply('The file is there.'),
      },
    });
    browser = (await launchChromium()).browser;
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await relay?.stop();
  });

  it('asks with Allow / Always / Deny, shows the tool call as text, and Allow lets it run', async () => {
    const page = await browser.newPage();
    await page.goto(`${relay.url}/ui/`);
    await page.getByRole('textbox', { name: 'Message' }).fill('WEB-ASK make the file');
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    const allow = page.getByRole('button', { name: 'Allow', exact: true });
    await expect.poll(() => allow.count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByRole('button', { name: 'Always', exact: true }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Deny', exact: true }).count()).toBe(1);
    expect(await page.locator('#feed').innerText()).toContain('<img src=x onerror="window.__pwned=5">');
    expect(existsSync(resolve(relay.dir, 'agent_workspace', 'web-allowed.txt'))).toBe(false);
    await allow.click();
    const article = page.getByRole('article').filter({ hasText: 'WEB-ASK' });
    await expect.poll(() => article.innerText(), { timeout: 60_000 }).toContain('The file is there.');
    expect(existsSync(resolve(relay.dir, 'agent_workspace', 'web-allowed.txt'))).toBe(true);
    expect(await page.locator('#feed img').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  }, 120_000);
});

const whisperCli = resolve(
  import.meta.dirname,
  '../../node_modules/nodejs-whisper/cpp/whisper.cpp/build/bin/whisper-cli',
);
const voiceMissing = [
  ...missing,
  ...(existsSync(whisperCli) ? [] : ['whisper-cli (npm run build:whisper)']),
  ...(existsSync('/usr/bin/ffmpeg') ? [] : ['ffmpeg']),
];
requireToolsInCi(voiceMissing);

describe.skipIf(voiceMissing.length > 0)('a voice note recorded in the web console', () => {
  let relay: ConsoleRelay;
  let browser: Browser;

  beforeAll(async () => {
    const models = mkdtempSync(join(tmpdir(), 'console-whisper-'));
    // whisper.cpp's weightless test model: it runs the whole model and recognises nothing.
    copyFileSync(join(WHISPER_TESTDATA_DIR, 'for-tests-ggml-tiny.bin'), join(models, 'ggml-tiny.bin'));
    relay = await startConsoleRelay({
      replies: {},
      env: { WHISPER_MODEL: 'tiny', WHISPER_MODEL_DIR: models, WHISPER_AUTO_DOWNLOAD: 'false' },
    });
    browser = (await launchChromium({ fakeMicrophone: true })).browser;
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await relay?.stop();
  });

  it('goes from the browser’s microphone (WebM/Opus) through the voice path to whisper, and Ogg/Opus does too', async () => {
    const context = await browser.newContext({ permissions: ['microphone'] });
    const page = await context.newPage();
    await page.goto(`${relay.url}/ui/`);
    await page.getByRole('button', { name: 'Record voice' }).click();
    await page.getByRole('button', { name: 'Stop recording' }).waitFor();
    await new Promise((done) => setTimeout(done, 1500));
    await page.getByRole('button', { name: 'Stop recording' }).click();
    const article = page.getByRole('article').filter({ hasText: 'voice.webm' });
    // The fake microphone beeps and the test model hears no words: that answer means decoding and whisper ran.
    await expect
      .poll(() => article.innerText(), { timeout: 60_000 })
      .toContain('No speech was recognised in the voice note, so no task was started.');

    // An Ogg/Opus note, as Firefox records it, posted the way the page posts one.
    const ogg = execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=1',
      '-c:a',
      'libopus',
      '-f',
      'ogg',
      '-',
    ]);
    const posted = await fetch(`${relay.url}/ui/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: relay.url },
      body: JSON.stringify({
        text: '',
        voice: { name: 'voice.ogg', type: 'audio/ogg', data: ogg.toString('base64') },
      }),
    });
    expect(posted.status).toBe(202);
    const oggTask = page.getByRole('article').filter({ hasText: 'voice.ogg' });
    await expect
      .poll(() => oggTask.innerText(), { timeout: 60_000 })
      .toContain('No speech was recognised in the voice note, so no task was started.');
    await context.close();
  }, 120_000);
});
