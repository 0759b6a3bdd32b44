import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { copyFile, lstat, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { DiffPart, WorktreeRecord } from './types.js';

// Git as the branches need it: a fork's worktree made from the state its parent left, what a branch changed,
// bringing it into the main worktree, and removing it. The user's branches, index and stash are never written:
// a directory's state is snapshotted through a temporary index (GIT_INDEX_FILE) and `commit-tree`, which only
// adds objects; the only refs the relay writes are its own `relay/<node>` branches. I/O only: no chat, no nodes.

export type MergeStyle = 'merge' | 'squash';

export type MergeOutcome =
  | { kind: 'merged'; style: MergeStyle; files: string[] }
  | { kind: 'nothing' }
  | { kind: 'conflict'; files: string[] }
  | { kind: 'refused'; reason: string };

export class GitError extends Error {
  override name = 'GitError';
}

/** The folder beside the repository that holds the relay's worktrees: `<repo>.relay-worktrees`. */
export function worktreesFolder(repo: string): string {
  return join(dirname(repo), `${basename(repo)}.relay-worktrees`);
}

export function branchName(nodeId: string): string {
  return `relay/${nodeId.slice(0, 8)}`;
}

// The relay's commits need an identity whatever the user configured; hooks of the user's repository are not
// the relay's to run.
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'claude-relay',
  GIT_AUTHOR_EMAIL: 'relay@localhost',
  GIT_COMMITTER_NAME: 'claude-relay',
  GIT_COMMITTER_EMAIL: 'relay@localhost',
  GIT_TERMINAL_PROMPT: '0',
};

interface GitResult {
  stdout: string;
  code: number;
}

export type GitWorktrees = ReturnType<typeof createGitWorktrees>;

/**
 * The git operations, run with `baseEnv` (PATH to find git, HOME for the user's git settings such as
 * safe.directory) plus the relay's identity.
 */
export function createGitWorktrees(baseEnv: Readonly<Record<string, string>>) {
  function runGit(cwd: string, args: string[], env: Record<string, string> = {}): Promise<GitResult> {
    return new Promise((done, fail) => {
      execFile(
        'git',
        ['-c', 'core.hooksPath=/dev/null', ...args],
        { cwd, env: { ...baseEnv, ...GIT_ENV, ...env }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout) => {
          if (error === null) return done({ stdout, code: 0 });
          // A number is git's exit status; anything else means git itself could not be started.
          if (typeof error.code !== 'number')
            return fail(new GitError(`git could not run: ${error.message}`));
          done({ stdout, code: error.code });
        },
      );
    });
  }

  /** git that must succeed: its output, or a GitError with git's own words. */
  async function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
    return new Promise((done, fail) => {
      execFile(
        'git',
        ['-c', 'core.hooksPath=/dev/null', ...args],
        { cwd, env: { ...baseEnv, ...GIT_ENV, ...env }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error === null) done(stdout);
          else fail(new GitError(`git ${args[0]} failed: ${`${stderr}`.trim() || error.message}`));
        },
      );
    });
  }

  const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

  /** The top of the git worktree holding `dir`, or null when `dir` is in no git repository. */
  async function gitTop(dir: string): Promise<string | null> {
    try {
      const { stdout, code } = await runGit(dir, ['rev-parse', '--show-toplevel']);
      if (code !== 0) return null;
      const top = stdout.trim();
      // A folder the repository ignores (the default ./agent_workspace inside a clone of the relay) is no part
      // of it: a worktree of that repository would not hold it.
      const inside = relative(top, dir);
      if (inside !== '' && (await runGit(top, ['check-ignore', '-q', `${inside}/`])).code === 0) return null;
      return top;
    } catch {
      return null;
    }
  }

  /** The main worktree of the repository `top` belongs to (itself, unless `top` is a linked worktree). */
  async function mainWorktree(top: string): Promise<string> {
    const common = (await git(top, ['rev-parse', '--git-common-dir'])).trim();
    return dirname(resolve(top, common));
  }

  async function headOf(top: string): Promise<string | null> {
    const { stdout, code } = await runGit(top, ['rev-parse', '--verify', '-q', 'HEAD^{commit}']);
    return code === 0 ? stdout.trim() : null;
  }

  interface Snapshot {
    commit: string;
    /** The temporary index that matches the directory (stat data fresh), when kept for a later `read-tree -u`. */
    index: string | null;
  }

  /**
   * Everything in the worktree `top` as one commit (tracked and untracked files, .gitignore respected), with
   * `parent` as its parent (HEAD unless given). Built in a copy of the worktree's index, so the user's index and
   * branches stay as they are.
   */
  async function snapshot(
    top: string,
    message: string,
    options: { parent?: string | null; keepIndex?: boolean } = {},
  ): Promise<Snapshot> {
    const index = join(tmpdir(), `relay-index-${randomUUID()}`);
    const env = { GIT_INDEX_FILE: index };
    try {
      const head = await headOf(top);
      const realIndex = resolve(top, (await git(top, ['rev-parse', '--git-path', 'index'])).trim());
      // A copy of the real index keeps its stat data, so only files changed since are hashed again.
      const copied = await copyFile(realIndex, index).then(
        () => true,
        () => false,
      );
      if (!copied && head !== null) await git(top, ['read-tree', head], env);
      await git(top, ['add', '-A'], env);
      const tree = (await git(top, ['write-tree'], env)).trim();
      const parent = options.parent === undefined ? head : options.parent;
      const commit = (
        await git(top, ['commit-tree', tree, ...(parent === null ? [] : ['-p', parent]), '-m', message])
      ).trim();
      if (options.keepIndex === true) return { commit, index };
      await rm(index, { force: true });
      return { commit, index: null };
    } catch (error) {
      await rm(index, { force: true });
      throw error;
    }
  }

  /**
   * A fork's own worktree, on a new branch `relay/<node>` at a commit of the state `parentDir` is in now. `parent`:
   * the parent's own record when it worked in a worktree of its own, else it worked in the main worktree.
   * Returns the record and the fork's working directory (the same place inside the repository as the parent's).
   */
  async function createWorktree(
    nodeId: string,
    parentDir: string,
    parent: WorktreeRecord | null,
  ): Promise<{ record: WorktreeRecord; workingDirectory: string } | null> {
    const top = await gitTop(parentDir);
    if (top === null) return null;
    const repo = await mainWorktree(top);
    const branch = branchName(nodeId);
    const { commit: base } = await snapshot(top, `relay: the state ${branch} starts from`);
    const path = join(worktreesFolder(repo), nodeId.slice(0, 8));
    await git(repo, ['worktree', 'add', '--quiet', '-b', branch, path, base]);
    const record: WorktreeRecord = { path, branch, repo, base, mainBase: parent?.mainBase ?? base };
    return { record, workingDirectory: join(path, relative(top, parentDir)) };
  }

  /**
   * A fork of a branch whose worktree is gone (`/discard`, pruned): a new worktree at the state that branch
   * started from, in the same place inside the repository.
   */
  async function recreateWorktree(
    nodeId: string,
    gone: WorktreeRecord,
    parentDir: string,
  ): Promise<{ record: WorktreeRecord; workingDirectory: string }> {
    const branch = branchName(nodeId);
    const path = join(worktreesFolder(gone.repo), nodeId.slice(0, 8));
    await git(gone.repo, ['worktree', 'add', '--quiet', '-b', branch, path, gone.base]);
    const record: WorktreeRecord = {
      path,
      branch,
      repo: gone.repo,
      base: gone.base,
      mainBase: gone.mainBase,
    };
    return { record, workingDirectory: join(path, relative(gone.path, parentDir)) };
  }

  /** What the branch changed: against the state its parent left, and against the project's HEAD now. */
  async function diffWorktree(
    record: WorktreeRecord,
  ): Promise<{ vsParent: DiffPart; vsHead: DiffPart | null }> {
    const { commit } = await snapshot(record.path, `relay: ${record.branch} for /diff`);
    const part = async (from: string): Promise<DiffPart> => ({
      stat: (await git(record.path, ['diff', '--stat', from, commit])).trimEnd(),
      patch: await git(record.path, ['diff', from, commit]),
    });
    const head = await headOf(record.repo);
    return { vsParent: await part(record.base), vsHead: head === null ? null : await part(head) };
  }

  /**
   * Brings the branch into the main worktree. `squash`: its changes land there uncommitted (a dirty main worktree
   * is merged with, never committed); `merge`: a merge commit on the checked-out branch, only when the main
   * worktree is clean. Conflicts are found before anything is written, so nothing is ever half-applied.
   */
  async function mergeWorktree(record: WorktreeRecord, style: MergeStyle): Promise<MergeOutcome> {
    const branchState = await snapshot(record.path, `relay: ${record.branch}`);
    return style === 'squash'
      ? squashInto(record, branchState.commit)
      : mergeCommitInto(record, branchState.commit);
  }

  async function squashInto(record: WorktreeRecord, theirs: string): Promise<MergeOutcome> {
    // The main worktree as it is, as a child of the merge base: the three-way merge then needs no --merge-base
    // (git 2.40) and counts what the main worktree did since this line of forks left it as "ours".
    const ours = await snapshot(record.repo, 'relay: the main worktree before /merge', {
      parent: record.mainBase,
      keepIndex: true,
    });
    const index = ours.index ?? '';
    try {
      const merged = await runGit(record.repo, [
        'merge-tree',
        '--write-tree',
        '--name-only',
        '--no-messages',
        ours.commit,
        theirs,
      ]);
      const [tree = '', ...conflicted] = lines(merged.stdout);
      if (merged.code === 1) return { kind: 'conflict', files: conflicted };
      if (merged.code !== 0) throw new GitError(`git merge-tree failed (exit ${merged.code})`);
      const files = lines(await git(record.repo, ['diff', '--name-only', ours.commit, tree]));
      if (files.length === 0) return { kind: 'nothing' };
      // A two-tree read-tree in the snapshot's index, whose stat data is fresh: it checks every file is as
      // snapshotted before it writes any, and updates only the files that differ.
      const read = await runGit(record.repo, ['read-tree', '-m', '-u', `${ours.commit}^{tree}`, tree], {
        GIT_INDEX_FILE: index,
      });
      if (read.code !== 0) {
        return {
          kind: 'refused',
          reason: 'files in the main worktree changed while merging; nothing was changed, try again',
        };
      }
      return { kind: 'merged', style: 'squash', files };
    } finally {
      await rm(index, { force: true });
    }
  }

  async function mergeCommitInto(record: WorktreeRecord, theirs: string): Promise<MergeOutcome> {
    const status = await git(record.repo, ['--no-optional-locks', 'status', '--porcelain']);
    if (status.trim() !== '') {
      return {
        kind: 'refused',
        reason:
          'the main worktree has uncommitted changes, and MERGE_STYLE=merge never commits them: commit or stash them, or use MERGE_STYLE=squash',
      };
    }
    const head = await headOf(record.repo);
    if (head === null) return { kind: 'refused', reason: 'the project has no commit yet to merge into' };
    const check = await runGit(record.repo, [
      'merge-tree',
      '--write-tree',
      '--name-only',
      '--no-messages',
      head,
      theirs,
    ]);
    const [tree = '', ...conflicted] = lines(check.stdout);
    if (check.code === 1) return { kind: 'conflict', files: conflicted };
    if (check.code !== 0) throw new GitError(`git merge-tree failed (exit ${check.code})`);
    const files = lines(await git(record.repo, ['diff', '--name-only', head, tree]));
    if (files.length === 0) return { kind: 'nothing' };
    await git(record.repo, ['update-ref', `refs/heads/${record.branch}`, theirs]);
    await git(record.repo, [
      'merge',
      '--no-ff',
      '-m',
      `Merge ${record.branch} (claude-relay)`,
      record.branch,
    ]);
    return { kind: 'merged', style: 'merge', files };
  }

  /** Removes the worktree folder and the branch; one already gone is no error. */
  async function removeWorktree(record: WorktreeRecord): Promise<void> {
    const removed = await runGit(record.repo, ['worktree', 'remove', '--force', record.path]);
    if (removed.code !== 0) {
      await rm(record.path, { recursive: true, force: true });
      await runGit(record.repo, ['worktree', 'prune']);
    }
    await runGit(record.repo, ['update-ref', '-d', `refs/heads/${record.branch}`]);
  }

  return { gitTop, createWorktree, recreateWorktree, diffWorktree, mergeWorktree, removeWorktree };
}

/** Bytes on disk under `dir` (files and links; a folder that is gone counts 0). */
export async function diskUse(dir: string): Promise<number> {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await diskUse(path);
    else
      total += await lstat(path).then(
        (stat) => stat.blocks * 512,
        () => 0,
      );
  }
  return total;
}
