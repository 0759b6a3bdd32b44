import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configured, telegramModule } from '../../platforms/index.js';
import { bashScript } from '../sessions/e2e-rig.js';
import { answerText, startTelegramDriver, TELEGRAM_USER } from './chat-drivers.js';
import { type RelayRig, startRelayRig } from './relay-rig.js';

// Branches and projects from chat: the whole relay on the Telegram fake, the real CLI, real git. The scripted
// model runs the prompt's `RUN <command>` with Bash and answers with its output.

const WAIT = { timeout: 60_000, interval: 100 };

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=u', '-c', 'user.email=u@x', ...args], { cwd, encoding: 'utf8' });

async function relayWith(env: Record<string, string>) {
  const driver = await startTelegramDriver();
  const rig: RelayRig = await startRelayRig({
    replies: { 'RUN ': bashScript },
    transcript: () => '',
    env,
    messaging: (rate) => ({
      platforms: ['telegram'],
      configured: [
        configured(telegramModule, {
          token: driver.fake.token,
          allowedUserIds: [String(TELEGRAM_USER)],
          apiRoot: driver.fake.apiRoot,
        }),
      ],
      rateLimit: rate,
    }),
  });
  cleanups.push(
    () => driver.close(),
    () => rig.stop(),
  );
  /** The bot's answer to a message as the user reads it (Telegram HTML without its tags). */
  const read = (id: string): string =>
    answerText(driver, id)
      .replace(/<[^>]+>/g, '')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&quot;', '"')
      .replaceAll('&amp;', '&');
  /** Sends a message and waits for the bot's answer to contain `expected`; the message id. */
  const say = async (text: string, expected: string, replyTo?: string): Promise<string> => {
    const id = driver.send(text, replyTo);
    await vi.waitFor(() => expect(read(id)).toContain(expected), WAIT);
    return id;
  };
  return { driver, rig, say, read };
}

function tempDirs() {
  const dir = mkdtempSync(join(tmpdir(), 'branches-chat-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const repo = join(dir, 'app');
  const plain = join(dir, 'notes');
  mkdirSync(repo);
  mkdirSync(plain);
  git(repo, 'init', '-q', '-b', 'main');
  execFileSync('sh', ['-c', 'echo base > f.txt'], { cwd: repo });
  git(repo, 'add', 'f.txt');
  git(repo, 'commit', '-qm', 'init');
  return { dir, repo, plain };
}

describe('branches and projects from chat (e2e)', () => {
  it('/project lists and switches; a fork works in its own worktree; /diff, /merge, /discard as replies; a non-git project says once that branches share a directory', async () => {
    const { repo, plain } = tempDirs();
    const { say, read, driver } = await relayWith({ PROJECTS: `app=${repo},notes=${plain}` });

    await say('/project', `• app: ${repo} (this chat)`);
    await say('/diff', '/diff takes nothing after it: send /diff as a reply to a task of the branch');

    const root = await say('RUN echo root > r.txt && pwd', `output: ${repo}`);
    const fork = await say('RUN echo FORK > f.txt && cat f.txt', 'output: FORK', root);
    expect(readFileSync(join(repo, 'f.txt'), 'utf8')).toBe('base\n');
    await say('/diff', "That task worked in the project's main worktree", root);

    const diff = await say('/diff', '+FORK', fork);
    expect(read(diff)).not.toContain('long.txt');
    expect(read(diff)).toMatch(/Against the state its parent left:[\s\S]*f\.txt \| 2 \+-/);
    expect(read(diff)).toMatch(/Against the project's HEAD now:[\s\S]*r\.txt/);
    // A long patch comes as a file, after the stat.
    const long = await say('RUN seq 1 800 > long.txt && wc -l long.txt', 'output: 800 long.txt', fork);
    const longDiff = await say('/diff', 'long.txt | 800 +', long);
    const file = await vi.waitFor(() => {
      const sent = driver.fake
        .botMessages(TELEGRAM_USER)
        .find((message) => message.replyTo === Number(longDiff) && message.document !== undefined);
      expect(sent).toBeDefined();
      return sent;
    }, WAIT);
    expect(file?.document?.name).toMatch(/^relay-[0-9a-f]{8}\.diff$/);
    const patch = Buffer.from(file?.document?.data ?? []).toString('utf8');
    expect(patch).toContain('+800\n');
    expect(patch).not.toContain('f.txt');
    expect(read(longDiff)).not.toContain('+800');
    await say('/merge', '✅ Merged branch', fork);
    expect(readFileSync(join(repo, 'f.txt'), 'utf8')).toBe('FORK\n');
    expect(git(repo, 'diff', '--cached', '--name-only')).toBe('');
    const count = (text: string): number => text.trim().split('\n').filter(Boolean).length;
    const worktrees = git(repo, 'worktree', 'list');
    expect(worktrees).toContain('app.relay-worktrees');
    expect(count(worktrees)).toBe(3);
    expect(count(git(repo, 'branch', '--list', 'relay/*'))).toBe(2);
    await say('/discard', '🗑 Discarded branch', fork);
    expect(count(git(repo, 'worktree', 'list'))).toBe(2);
    expect(count(git(repo, 'branch', '--list', 'relay/*'))).toBe(1);
    await say('/merge', "That branch's worktree was removed", fork);

    await say('/project nope', 'There is no project nope; the projects are app, notes. Nothing changed.');
    await say('/project notes', `now work in notes (${plain})`);
    const plainRoot = await say('RUN pwd', `output: ${plain}`);
    const first = await say('RUN pwd', `output: ${plain}`, plainRoot);
    await vi.waitFor(() => expect(read(first)).toContain('share one directory'), WAIT);
    const second = await say('RUN pwd', `output: ${plain}`, plainRoot);
    expect(read(second)).not.toContain('share one directory');
    // A reply stays in its conversation's project, whichever project the chat has switched to since.
    await say('RUN pwd', `output: ${repo}`, root);
  }, 150_000);

  it('ALLOWED_DIR without PROJECTS: the sessions work in its first entry and may reach the others', async () => {
    const { repo, plain } = tempDirs();
    const { say, rig } = await relayWith({ ALLOWED_DIR: `${plain},${repo}` });
    await say('RUN pwd', `output: ${plain}`);
    // The CLI names its additional directories (--add-dir) to the model.
    expect(JSON.stringify(rig.requestsFor('RUN pwd')[0])).toContain(repo);
    expect(existsSync(join(rig.workspace, 'r.txt'))).toBe(false);
  }, 60_000);
});
