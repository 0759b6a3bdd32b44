import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sessionFolderName } from '../../sessions/session-files.js';
import type { MessageRef, NodeSnapshot, SessionEngine } from '../../sessions/types.js';
import { lastUserText, messagesOf, startFakeUpstream } from '../fakes/openai-upstream.js';
import { bashScript, type E2eRig, finishedNode, startE2eRig } from './e2e-rig.js';

// Branches that do not trample each other: the engine with the real CLI in a real git repository, each fork in
// its own worktree. The scripted model (bashScript) runs what the prompt asks for with the Bash tool and answers
// with what it printed, so the answers show what each branch's directory held.

let rig: E2eRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=u', '-c', 'user.email=u@x', ...args], { cwd, encoding: 'utf8' });

/** A repository with one commit (`a.txt` = base) and a staged change of the user's own in its index. */
function makeRepo(dir: string): string {
  const repo = join(dir, 'workspace', 'repo');
  mkdirSync(repo, { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  execFileSync('sh', ['-c', 'echo base > a.txt && echo mine > staged.txt'], { cwd: repo });
  git(repo, 'add', 'a.txt');
  git(repo, 'commit', '-qm', 'init');
  git(repo, 'add', 'staged.txt');
  return repo;
}

/** What the user's own git state is: branches, HEAD, index, stash. None of it may change under the relay. */
function userState(repo: string): string {
  return [
    git(repo, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/main', 'refs/stash'),
    git(repo, 'rev-parse', 'HEAD'),
    git(repo, 'diff', '--cached', '--name-status'),
  ].join('|');
}

let counter = 0;
const ref = (): MessageRef => ({ platform: 'e2e', chatId: 'c', messageId: `w${++counter}` });

async function run(engine: SessionEngine, prompt: string, replyTo: MessageRef | null = null) {
  const origin = ref();
  const result = await engine.submit({ prompt, origin, replyTo });
  if (result.kind !== 'accepted') throw new Error(result.reason);
  return { origin, done: finishedNode(engine, result.node.id) };
}

const answer = (node: NodeSnapshot): string => (node.outcome?.kind === 'done' ? node.outcome.text : '');

describe('a git worktree per fork, with the real CLI', () => {
  it('siblings write one file at once and each sees its own; /diff, /merge, a conflicting /merge, /discard, a fork of a fork, a restart', async () => {
    rig = await startE2eRig(await startFakeUpstream(bashScript));
    const repo = makeRepo(rig.dir);
    const engine = rig.engine({ workspace: repo });
    await engine.start();
    const before = userState(repo);

    const root = await run(engine, 'RUN echo root-edit > notes.txt && cat notes.txt');
    const rootNode = await root.done;
    expect(answer(rootNode)).toBe('output: root-edit');
    expect(rootNode.worktree).toBeUndefined();
    expect(rootNode.workingDirectory).toBe(repo);

    // Two forks of the root at the same time, each writing its own a.txt, waiting, then reading it back.
    const [a, b] = await Promise.all([
      run(engine, 'RUN echo VERSION-A > a.txt && sleep 1 && cat a.txt notes.txt', root.origin),
      run(engine, 'RUN echo VERSION-B > a.txt && sleep 1 && cat a.txt notes.txt', root.origin),
    ]);
    const [nodeA, nodeB] = await Promise.all([a.done, b.done]);
    expect(answer(nodeA)).toBe('output: VERSION-A\nroot-edit');
    expect(answer(nodeB)).toBe('output: VERSION-B\nroot-edit');
    expect(nodeA.worktree?.path).toBe(
      join(rig.dir, 'workspace', 'repo.relay-worktrees', nodeA.id.slice(0, 8)),
    );
    expect(nodeA.workingDirectory).toBe(nodeA.worktree?.path);
    expect(nodeB.worktree?.path).not.toBe(nodeA.worktree?.path);
    // The fork is told where it works now, in its message: the resumed system prompt names the main worktree.
    const askedA = rig.upstream.requests.find((req) => lastUserText(req.body).includes('VERSION-A > a.txt'));
    expect(lastUserText(askedA?.body)).toContain(`its own git worktree, ${nodeA.worktree?.path}`);
    expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('base\n');
    expect(userState(repo)).toBe(before);
    // /stats: two worktrees, a checkout's worth of disk each.
    await vi.waitFor(() => expect(engine.stats().worktrees?.count).toBe(2));
    expect(engine.stats().worktrees?.bytes).toBeGreaterThan(0);

    const diffA = await engine.branches.diff(a.origin);
    expect(diffA.kind === 'diff' && diffA.vsParent.stat).toMatch(/a\.txt \| 2 \+-/);
    expect(diffA.kind === 'diff' && diffA.vsParent.patch).toContain('+VERSION-A');
    expect(diffA.kind === 'diff' && diffA.vsParent.patch).not.toContain('notes.txt');
    expect(diffA.kind === 'diff' && diffA.vsHead?.stat).toMatch(/notes\.txt/);
    const diffB = await engine.branches.diff(b.origin);
    expect(diffB.kind === 'diff' && diffB.vsParent.patch).toContain('+VERSION-B');

    expect(await engine.branches.merge(a.origin)).toEqual({
      kind: 'merged',
      branch: nodeA.worktree?.branch,
      into: repo,
      style: 'squash',
      files: ['a.txt'],
    });
    expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('VERSION-A\n');
    expect(userState(repo)).toBe(before);
    const statusAfterMerge = git(repo, 'status', '--porcelain');

    expect(await engine.branches.merge(b.origin)).toEqual({
      kind: 'conflict',
      branch: nodeB.worktree?.branch,
      into: repo,
      files: ['a.txt'],
    });
    expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('VERSION-A\n');
    expect(git(repo, 'status', '--porcelain')).toBe(statusAfterMerge);

    expect(await engine.branches.discard(b.origin)).toMatchObject({ kind: 'discarded' });
    expect(existsSync(nodeB.worktree?.path ?? '')).toBe(false);
    expect(git(repo, 'worktree', 'list')).not.toContain(nodeB.id.slice(0, 8));
    expect(git(repo, 'branch', '--list', nodeB.worktree?.branch ?? '')).toBe('');
    expect(await engine.branches.merge(b.origin)).toMatchObject({ kind: 'unavailable' });
    // A reply to the discarded branch starts again from the state that branch began with.
    const again = await run(engine, 'RUN cat a.txt notes.txt', b.origin);
    const againNode = await again.done;
    expect(answer(againNode)).toBe('output: base\nroot-edit');
    expect(againNode.forkOf).toBe(nodeB.sessionId);
    expect(againNode.worktree?.base).toBe(nodeB.worktree?.base);

    // A fork of a fork: it starts from A's edits and resumes A's conversation.
    const grand = await run(engine, 'RUN cat ./a.txt', a.origin);
    const grandNode = await grand.done;
    expect(answer(grandNode)).toBe('output: VERSION-A');
    expect(grandNode.forkOf).toBe(nodeA.sessionId);
    expect(grandNode.worktree?.mainBase).toBe(nodeA.worktree?.mainBase);
    const grandRequest = rig.upstream.requests.find((request) =>
      lastUserText(request.body).includes('RUN cat ./a.txt'),
    );
    const history = JSON.stringify(messagesOf(grandRequest?.body));
    expect(history).toContain('VERSION-A > a.txt');
    expect(history).toContain('root-edit > notes.txt');
    expect(history).not.toContain('VERSION-B');
    const copied = join(
      rig.dir,
      'home',
      '.claude',
      'projects',
      sessionFolderName(grandNode.workingDirectory),
      `${nodeA.sessionId}.jsonl`,
    );
    expect(existsSync(copied)).toBe(true);

    // A restart keeps every branch's worktree mapping; the commands still find the branches.
    await engine.close();
    const restarted = rig.engine({ workspace: repo });
    await restarted.start();
    expect(restarted.getNode(nodeA.id)?.worktree).toEqual(nodeA.worktree);
    expect(restarted.getNode(grandNode.id)?.worktree).toEqual(grandNode.worktree);
    expect(restarted.getNode(nodeB.id)?.worktree?.removedAt).toBeGreaterThan(0);
    const diffAfter = await restarted.branches.diff(a.origin);
    expect(diffAfter.kind === 'diff' && diffAfter.vsParent.patch).toContain('+VERSION-A');
    // /clear of a branch removes its worktree and branch with it.
    await restarted.clear({ kind: 'message', ref: grand.origin });
    expect(existsSync(grandNode.worktree?.path ?? '')).toBe(false);
    expect(git(repo, 'branch', '--list', grandNode.worktree?.branch ?? '')).toBe('');
    expect(userState(repo)).toBe(before);
  }, 120_000);
});
