import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBranches } from '../../sessions/branches.js';
import { createGitWorktrees } from '../../sessions/git-worktrees.js';
import { newNode } from '../../sessions/node-model.js';
import { createConversationTree } from '../../sessions/tree.js';
import type { NodeSnapshot } from '../../sessions/types.js';
import { createLogger } from '../../src/log.js';

// The git side of branches on real repositories (no CLI): what a fork's worktree holds, that the user's own
// branches, index and stash never change, MERGE_STYLE=merge, and pruning after WORKTREE_TTL.

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

const gitOps = createGitWorktrees({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: tmpdir() });
const { createWorktree, mergeWorktree } = gitOps;

/** Branches over `tree` on real git, stored nowhere, WORKTREE_TTL one day unless given. */
function branchesOver(
  tree: ReturnType<typeof createConversationTree>,
  options: { now: () => number; ttlMs?: number; git?: ReturnType<typeof createGitWorktrees> },
) {
  return createBranches({
    mode: 'auto',
    mergeStyle: 'squash',
    ttlMs: options.ttlMs ?? 86_400_000,
    tree,
    git: options.git ?? gitOps,
    persist: async () => {},
    clock: { now: options.now, sleep: async () => {} },
    logger: createLogger('silent', []),
  });
}

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=u', '-c', 'user.email=u@x', ...args], { cwd, encoding: 'utf8' });

function repoWithWork(): string {
  const dir = mkdtempSync(join(tmpdir(), 'branches-'));
  dirs.push(dir);
  const repo = join(dir, 'my.repo');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, '.gitignore'), 'build/\n');
  writeFileSync(join(repo, 'a.txt'), 'base\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  // The user's own work in progress: a staged file, an edit, an untracked file, an ignored one, a stash.
  writeFileSync(join(repo, 'stashed.txt'), 'stash me\n');
  git(repo, 'add', 'stashed.txt');
  git(repo, 'stash', '-q');
  writeFileSync(join(repo, 'staged.txt'), 'staged\n');
  git(repo, 'add', 'staged.txt');
  writeFileSync(join(repo, 'a.txt'), 'base\nedited\n');
  writeFileSync(join(repo, 'new.txt'), 'untracked\n');
  mkdirSync(join(repo, 'build'));
  writeFileSync(join(repo, 'build', 'out.bin'), 'ignored\n');
  return repo;
}

const userState = (repo: string): string =>
  [
    git(repo, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/main', 'refs/stash'),
    git(repo, 'diff', '--cached', '--name-status'),
    git(repo, 'status', '--porcelain'),
  ].join('|');

describe('a fork worktree', () => {
  it("holds the parent's state, tracked, edited and untracked files alike (not ignored ones), and leaves the user's git state alone", async () => {
    const repo = repoWithWork();
    const before = userState(repo);
    const made = await createWorktree('0123456789abcdef', repo, null);
    expect(made?.record.path).toBe(join(repo, '..', 'my.repo.relay-worktrees', '01234567'));
    expect(made?.record.branch).toBe('relay/01234567');
    const path = made?.workingDirectory ?? '';
    expect(readFileSync(join(path, 'a.txt'), 'utf8')).toBe('base\nedited\n');
    expect(readFileSync(join(path, 'new.txt'), 'utf8')).toBe('untracked\n');
    expect(readFileSync(join(path, 'staged.txt'), 'utf8')).toBe('staged\n');
    expect(existsSync(join(path, 'build'))).toBe(false);
    expect(existsSync(join(path, 'stashed.txt'))).toBe(false);
    expect(git(path, 'status', '--porcelain')).toBe('');
    expect(userState(repo)).toBe(before);
  });

  it('works from the same place inside the repository as its parent', async () => {
    const repo = repoWithWork();
    mkdirSync(join(repo, 'pkg'));
    const made = await createWorktree('fedcba9876543210', join(repo, 'pkg'), null);
    expect(made?.workingDirectory).toBe(join(made?.record.path ?? '', 'pkg'));
    expect(await createWorktree('aaaaaaaa', tmpdir(), null)).toBeNull();
    // An ignored folder of a repository (./agent_workspace in a clone of the relay) is no git project.
    mkdirSync(join(repo, 'build', 'work'));
    expect(await createWorktree('bbbbbbbb', join(repo, 'build', 'work'), null)).toBeNull();
    expect(git(repo, 'branch', '--list', 'relay/bbbbbbbb')).toBe('');
  });
});

describe('MERGE_STYLE=merge', () => {
  it('refuses while the main worktree has uncommitted changes, then merges with a merge commit once it is clean', async () => {
    const repo = repoWithWork();
    const made = await createWorktree('1111111122222222', repo, null);
    const record = made?.record;
    if (record === undefined) throw new Error('no worktree');
    writeFileSync(join(record.path, 'feature.txt'), 'feature\n');
    const head = git(repo, 'rev-parse', 'HEAD');
    const refused = await mergeWorktree(record, 'merge');
    expect(refused).toMatchObject({ kind: 'refused' });
    expect(refused.kind === 'refused' && refused.reason).toContain('never commits them');
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);

    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'the user commits their work');
    expect(await mergeWorktree(record, 'merge')).toEqual({
      kind: 'merged',
      style: 'merge',
      files: ['feature.txt'],
    });
    expect(git(repo, 'log', '-1', '--format=%s %p')).toMatch(
      /^Merge relay\/11111111 \(claude-relay\) \w+ \w+\n$/,
    );
    expect(readFileSync(join(repo, 'feature.txt'), 'utf8')).toBe('feature\n');
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });
});

describe('pruning after WORKTREE_TTL', () => {
  it('removes the worktree and branch of a branch finished longer ago, keeps a recent or running one, and records it', async () => {
    const repo = repoWithWork();
    const tree = createConversationTree();
    let now = 1_000_000;
    const stored: NodeSnapshot[] = [];
    const branches = createBranches({
      mode: 'auto',
      mergeStyle: 'squash',
      ttlMs: 14 * 86_400_000,
      tree,
      git: gitOps,
      persist: async (node) => {
        stored.push({ ...node });
      },
      clock: { now: () => now, sleep: async () => {} },
      logger: createLogger('silent', []),
    });
    const fork = async (id: string, state: NodeSnapshot['state'], finishedAt: number | null) => {
      const origin = { platform: 't', chatId: 'c', messageId: id };
      const node = newNode({
        id,
        task: { prompt: 'p', origin, replyTo: null },
        parent: undefined,
        workspace: repo,
        now,
        queuePosition: 0,
      });
      const made = await createWorktree(id, repo, null);
      if (made === null) throw new Error('no worktree');
      Object.assign(node, { state, finishedAt, worktree: made.record });
      tree.add(node);
      return node;
    };
    const old = await fork('old00000', 'done', now);
    const recent = await fork('new00000', 'done', now + 10 * 86_400_000);
    const running = await fork('run00000', 'running', null);
    now += 15 * 86_400_000;

    expect(await branches.prune()).toBe(1);
    expect(existsSync(old.worktree?.path ?? '')).toBe(false);
    expect(git(repo, 'branch', '--list', 'relay/old00000')).toBe('');
    expect(tree.get(old.id)?.worktree?.removedAt).toBe(now);
    expect(stored.at(-1)?.worktree?.removedAt).toBe(now);
    expect(existsSync(recent.worktree?.path ?? '')).toBe(true);
    expect(existsSync(running.worktree?.path ?? '')).toBe(true);
    expect(await branches.prune()).toBe(0);
  });

  it('keeps what a pruned branch left (uncommitted work too): a reply continues from it, /diff says where it is, /clear forgets it', async () => {
    const repo = repoWithWork();
    const tree = createConversationTree();
    let now = 1_000_000;
    const branches = branchesOver(tree, { now: () => now });
    const ref = (id: string) => ({ platform: 't', chatId: 'c', messageId: id });
    const node = (id: string, parent: NodeSnapshot | undefined) =>
      newNode({
        id,
        task: { prompt: 'p', origin: ref(id), replyTo: parent === undefined ? null : ref(parent.id) },
        parent,
        workspace: repo,
        now,
        queuePosition: 0,
      });
    const made = await createWorktree('pruned00', repo, null);
    const pruned = node('pruned00', undefined);
    Object.assign(pruned, {
      state: 'done',
      finishedAt: now,
      worktree: made?.record,
      workingDirectory: made?.workingDirectory,
    });
    tree.add(pruned);
    writeFileSync(join(made?.record.path ?? '', 'work.txt'), 'what the branch wrote, never committed\n');
    now += 2 * 86_400_000;

    expect(await branches.prune()).toBe(1);
    expect(existsSync(made?.record.path ?? '')).toBe(false);
    expect(git(repo, 'branch', '--list', 'relay/pruned00')).toBe('');
    expect(git(repo, 'show', 'refs/relay-kept/pruned00:work.txt')).toBe(
      'what the branch wrote, never committed\n',
    );
    expect(await branches.diff(ref('pruned00'))).toEqual({
      kind: 'unavailable',
      reason: expect.stringContaining('kept in the repository as `refs/relay-kept/pruned00`'),
    });

    const reply = node('reply000', pruned);
    tree.add(reply);
    expect(await branches.prepare(reply)).toBeNull();
    expect(readFileSync(join(reply.workingDirectory, 'work.txt'), 'utf8')).toBe(
      'what the branch wrote, never committed\n',
    );

    expect(await branches.discard(ref('pruned00'))).toMatchObject({
      kind: 'discarded',
      branch: 'relay/pruned00',
    });
    expect(git(repo, 'for-each-ref', 'refs/relay-kept/')).toBe('');
    expect(tree.get('pruned00')?.worktree?.kept).toBeUndefined();

    const other = await createWorktree('pruned11', repo, null);
    const second = node('pruned11', undefined);
    Object.assign(second, { state: 'done', finishedAt: now, worktree: other?.record });
    tree.add(second);
    now += 2 * 86_400_000;
    expect(await branches.prune()).toBe(1); // the reply never finished: its worktree stays
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/relay-kept/')).toContain('pruned11');
    await branches.removeAll([second]);
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/relay-kept/')).not.toContain('pruned11');
  });
});

describe('a worktree that cannot be made', () => {
  it('leaves no branch behind, so the same fork can be made once the cause is gone', async () => {
    const repo = repoWithWork();
    const blocker = `${repo}.relay-worktrees`; // a file where the worktrees folder goes
    writeFileSync(blocker, 'not a folder');
    await expect(createWorktree('failed00', repo, null)).rejects.toThrow(/git worktree failed/);
    expect(git(repo, 'branch', '--list', 'relay/*')).toBe('');
    expect(git(repo, 'worktree', 'list').trim().split('\n')).toHaveLength(1);
    expect(readFileSync(blocker, 'utf8')).toBe('not a folder');

    rmSync(blocker);
    const made = await createWorktree('failed00', repo, null);
    expect(made?.record.branch).toBe('relay/failed00');
  });

  it('a branch of that name that was already there is not deleted when git refuses to make it again', async () => {
    const repo = repoWithWork();
    git(repo, 'branch', 'relay/taken000');
    const before = git(repo, 'rev-parse', 'relay/taken000');
    await expect(createWorktree('taken000', repo, null)).rejects.toThrow(/already exists/);
    expect(git(repo, 'rev-parse', 'relay/taken000')).toBe(before);
  });

  it('without git on the PATH nothing is a repository: a fork shares its parent’s directory and says so', async () => {
    const repo = repoWithWork();
    const empty = mkdtempSync(join(tmpdir(), 'no-git-'));
    dirs.push(empty);
    const tree = createConversationTree();
    const branches = branchesOver(tree, {
      git: createGitWorktrees({ PATH: empty, HOME: tmpdir() }),
      now: () => 5,
    });
    const origin = { platform: 't', chatId: 'c', messageId: 'r' };
    const root = newNode({
      id: 'nogit000',
      task: { prompt: 'p', origin, replyTo: null },
      parent: undefined,
      workspace: repo,
      now: 1,
      queuePosition: 0,
    });
    tree.add(root);
    const fork = newNode({
      id: 'nogit111',
      task: { prompt: 'p', origin: { ...origin, messageId: 'f' }, replyTo: origin },
      parent: root,
      workspace: repo,
      now: 2,
      queuePosition: 0,
    });
    tree.add(fork);
    expect(await branches.sharesDirectory(root)).toBe(true);
    expect(await branches.prepare(fork)).toBeNull();
    expect(fork.worktree).toBeUndefined();
  });
});

describe('a repository git refuses', () => {
  // Only root can give the repository to another user; CI runs as root, so there it always runs.
  it.skipIf(process.getuid?.() !== 0 && process.env.CI !== 'true')(
    'a fork says what git said (dubious ownership) instead of quietly sharing its parent’s directory',
    async () => {
      const repo = repoWithWork();
      execFileSync('chown', ['-R', '12345', repo]);
      const tree = createConversationTree();
      const branches = branchesOver(tree, { now: () => 5 });
      const ref = (id: string) => ({ platform: 't', chatId: 'c', messageId: id });
      const root = newNode({
        id: 'root0000',
        task: { prompt: 'p', origin: ref('root0000'), replyTo: null },
        parent: undefined,
        workspace: repo,
        now: 1,
        queuePosition: 0,
      });
      Object.assign(root, { state: 'done', finishedAt: 1 });
      tree.add(root);
      const fork = newNode({
        id: 'fork0000',
        task: { prompt: 'p', origin: ref('fork0000'), replyTo: ref('root0000') },
        parent: root,
        workspace: repo,
        now: 2,
        queuePosition: 0,
      });
      tree.add(fork);
      expect(await branches.sharesDirectory(root)).toBe(false);
      expect(await branches.prepare(fork)).toMatch(
        /^Could not create this branch's own git worktree: git rev-parse failed in .*detected dubious ownership/,
      );
      expect(fork.worktree).toBeUndefined();
    },
  );
});

describe('a branch whose worktree was removed by hand', () => {
  it('is answered with what happened by /diff and /merge, and /discard still removes its branch', async () => {
    const repo = repoWithWork();
    const tree = createConversationTree();
    const branches = branchesOver(tree, { now: () => 5 });
    const ref = { platform: 't', chatId: 'c', messageId: '1' };
    const node = newNode({
      id: 'gone0000',
      task: { prompt: 'p', origin: ref, replyTo: null },
      parent: undefined,
      workspace: repo,
      now: 1,
      queuePosition: 0,
    });
    const made = await createWorktree(node.id, repo, null);
    Object.assign(node, { state: 'done', finishedAt: 1, worktree: made?.record });
    tree.add(node);
    rmSync(made?.record.path ?? '', { recursive: true, force: true });

    const gone = `That branch's worktree ${made?.record.path} is gone (removed outside the relay): /discard as a reply removes its branch too.`;
    expect(await branches.diff(ref)).toEqual({ kind: 'unavailable', reason: gone });
    expect(await branches.merge(ref)).toEqual({ kind: 'unavailable', reason: gone });
    expect(await branches.discard(ref)).toMatchObject({ kind: 'discarded', branch: 'relay/gone0000' });
    expect(git(repo, 'branch', '--list', 'relay/gone0000')).toBe('');
    expect(git(repo, 'worktree', 'list').trim().split('\n')).toHaveLength(1);
    expect(await branches.diff({ ...ref, messageId: '2' })).toEqual({
      kind: 'unavailable',
      reason: 'That message is not part of a conversation I know.',
    });
  });
});

describe('origins whose forks share a directory', () => {
  it('an API conversation goes on in its parent directory: no worktree per turn', async () => {
    const repo = repoWithWork();
    const tree = createConversationTree();
    const branches = createBranches({
      mode: 'auto',
      mergeStyle: 'squash',
      ttlMs: 14 * 86_400_000,
      tree,
      git: gitOps,
      persist: async () => {},
      clock: { now: () => 0, sleep: async () => {} },
      logger: createLogger('silent', []),
      sharedDirectoryOrigins: ['gateway'],
    });
    const node = (id: string, platform: string, parent: NodeSnapshot | undefined) => {
      const origin = { platform, chatId: 'c', messageId: id };
      const made = newNode({
        id,
        task: { prompt: 'p', origin, replyTo: parent?.messages[0]?.ref ?? null },
        parent,
        workspace: repo,
        now: 0,
        queuePosition: 0,
      });
      tree.add(made);
      return made;
    };
    const first = node('api00001', 'gateway', undefined);
    const turn = node('api00002', 'gateway', first);
    expect(await branches.prepare(turn)).toBeNull();
    expect(turn.worktree).toBeUndefined();
    expect(turn.workingDirectory).toBe(repo);
    // A chat's fork of the same parent still gets its own.
    const chatFork = node('chat0001', 'telegram', first);
    expect(await branches.prepare(chatFork)).toBeNull();
    expect(chatFork.worktree?.path).toBeDefined();
  });
});

describe("a fork worktree and the project's installed dependencies", () => {
  it('links the main worktree’s dependencies and local settings (node_modules, .venv, .env), not build output or tool caches', async () => {
    const repo = repoWithWork();
    writeFileSync(join(repo, '.gitignore'), 'build/\nnode_modules/\n.venv/\n.env\n');
    git(repo, 'add', '.gitignore');
    mkdirSync(join(repo, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(repo, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;\n');
    mkdirSync(join(repo, 'node_modules', '.bin'));
    mkdirSync(join(repo, 'node_modules', '.vite', 'deps'), { recursive: true });
    mkdirSync(join(repo, 'node_modules', '.cache'));
    mkdirSync(join(repo, '.venv'));
    writeFileSync(join(repo, '.env'), 'TOKEN=local\n');
    const made = await createWorktree('deps0001', repo, null);
    if (made === null) throw new Error('no worktree');
    const fork = made.record.path;
    expect(readFileSync(join(fork, 'node_modules', 'left-pad', 'index.js'), 'utf8')).toBe(
      'module.exports = 1;\n',
    );
    expect(lstatSync(join(fork, 'node_modules', 'left-pad')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(fork, 'node_modules', 'left-pad'))).toBe(join(repo, 'node_modules', 'left-pad'));
    expect(existsSync(join(fork, 'node_modules', '.bin'))).toBe(true);
    // Tools' caches are each fork's own: siblings building at once do not write into one.
    expect(existsSync(join(fork, 'node_modules', '.vite'))).toBe(false);
    expect(existsSync(join(fork, 'node_modules', '.cache'))).toBe(false);
    expect(existsSync(join(fork, '.venv'))).toBe(true);
    expect(readFileSync(join(fork, '.env'), 'utf8')).toBe('TOKEN=local\n');
    // Build output is the branch's own business.
    expect(existsSync(join(fork, 'build'))).toBe(false);
    // Linked, not committed: the fork's git status is clean of them.
    expect(git(fork, 'status', '--porcelain')).not.toMatch(/node_modules|\.venv|\.env/);
  });
});
