import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type Dirent, existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, rm, symlink } from 'node:fs/promises';
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

/**
 * Writing a checkout's files waits on the disk more than on the processor: four workers made a 10,000-file
 * worktree two to three times faster than git's one on this 2-core machine under load (3.5 s vs 9.9 s).
 */
const PARALLEL_CHECKOUT = ['-c', 'checkout.workers=4'];

interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** git with the relay's environment: `run` reports the exit status, `must` throws a GitError unless 0. */
interface GitRunner {
  run(cwd: string, args: string[], env?: Record<string, string>): Promise<GitResult>;
  /** Whether git can be started at all (asked once). */
  available(): Promise<boolean>;
  must(cwd: string, args: string[], env?: Record<string, string>): Promise<string>;
}

const GIT_TIMEOUT_MS = 120_000;

/** What a git command is called in a message: its subcommand, past any `-c name=value` settings in front. */
const subcommandOf = (args: readonly string[]): string | undefined =>
  args.find((arg, i) => !arg.startsWith('-') && args[i - 1] !== '-c');

function gitRunner(baseEnv: Readonly<Record<string, string>>): GitRunner {
  const run = (cwd: string, args: string[], env: Record<string, string> = {}): Promise<GitResult> =>
    new Promise((done, fail) => {
      execFile(
        'git',
        ['-c', 'core.hooksPath=/dev/null', ...args],
        {
          cwd,
          env: { ...baseEnv, ...GIT_ENV, ...env },
          maxBuffer: 64 * 1024 * 1024,
          // One git that hangs (a credential helper, an LFS filter) must not hold every fork behind it.
          timeout: GIT_TIMEOUT_MS,
          killSignal: 'SIGKILL',
        },
        (error, stdout, stderr) => {
          if (error === null) return done({ stdout, stderr, code: 0 });
          if (error.killed) {
            return fail(
              new GitError(`git ${subcommandOf(args)} did not finish within ${GIT_TIMEOUT_MS / 1000} s`),
            );
          }
          // A number is git's exit status; anything else means git itself could not be started.
          if (typeof error.code !== 'number')
            return fail(new GitError(`git could not run: ${error.message}`));
          done({ stdout, stderr, code: error.code });
        },
      );
    });
  let probe: Promise<boolean> | undefined;
  return {
    run,
    available() {
      // Only a yes is kept: git installed while the relay runs is found at the next fork.
      // Only a git that is not there at all means "no repositories": any other failure to start it (EAGAIN,
      // EMFILE under load) throws, so a fork fails visibly rather than sharing its parent's directory.
      probe ??= run('/', ['--version']).then(
        (result) => result.code === 0,
        (error: unknown) => {
          if (error instanceof Error && /\bENOENT\b/.test(error.message)) return false;
          probe = undefined;
          throw error;
        },
      );
      const asked = probe;
      void asked.then((yes) => {
        if (!yes && probe === asked) probe = undefined;
      });
      return asked;
    },
    async must(cwd, args, env) {
      const result = await run(cwd, args, env);
      if (result.code !== 0) {
        throw new GitError(
          `git ${subcommandOf(args)} failed: ${result.stderr.trim() || `exit ${result.code}`}`,
        );
      }
      return result.stdout;
    },
  };
}

export type GitWorktrees = ReturnType<typeof createGitWorktrees>;

/**
 * The git operations, run with `baseEnv` (PATH to find git, HOME for the user's git settings such as
 * safe.directory) plus the relay's identity.
 */
export function createGitWorktrees(baseEnv: Readonly<Record<string, string>>) {
  const g = gitRunner(baseEnv);
  return {
    gitTop: (dir: string) => gitTop(g, dir),
    createWorktree: (nodeId: string, parentDir: string, parent: WorktreeRecord | null) =>
      createWorktree(g, nodeId, parentDir, parent),
    recreateWorktree: (nodeId: string, gone: WorktreeRecord, parentDir: string) =>
      recreateWorktree(g, nodeId, gone, parentDir),
    diffWorktree: (record: WorktreeRecord) => diffWorktree(g, record),
    mergeWorktree: (record: WorktreeRecord, style: MergeStyle) => mergeWorktree(g, record, style),
    removeWorktree: (record: WorktreeRecord, options: { keep: boolean }) =>
      removeWorktree(g, record, options.keep),
    forgetKept: (record: WorktreeRecord) => forgetKept(g, record),
  };
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

/**
 * The top of the git worktree holding `dir`, or null when `dir` is in no git repository. Any other failure (a
 * repository git refuses as of "dubious ownership", a folder that is gone) throws with git's words: taken for
 * "no repository", it would quietly put every fork in its parent's directory.
 */
async function gitTop(g: GitRunner, dir: string): Promise<string | null> {
  if (!existsSync(dir)) throw new GitError(`the working directory ${dir} no longer exists`);
  // Without git (a slim container image) nothing is a repository: forks share their parent's directory.
  if (!(await g.available())) return null;
  const { stdout, stderr, code } = await g.run(dir, ['rev-parse', '--show-toplevel']);
  if (code !== 0) {
    if (/not a git repository/i.test(stderr)) return null;
    throw new GitError(`git rev-parse failed in ${dir}: ${stderr.trim() || `exit ${code}`}`);
  }
  const top = stdout.trim();
  // A folder the repository ignores (the default ./agent_workspace inside a clone of the relay) is no part
  // of it: a worktree of that repository would not hold it.
  const inside = relative(top, dir);
  if (inside !== '' && (await g.run(top, ['check-ignore', '-q', `${inside}/`])).code === 0) return null;
  return top;
}

/** The main worktree of the repository `top` belongs to (itself, unless `top` is a linked worktree). */
async function mainWorktree(g: GitRunner, top: string): Promise<string> {
  const common = (await g.must(top, ['rev-parse', '--git-common-dir'])).trim();
  return dirname(resolve(top, common));
}

async function headOf(g: GitRunner, top: string): Promise<string | null> {
  const { stdout, code } = await g.run(top, ['rev-parse', '--verify', '-q', 'HEAD^{commit}']);
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
  g: GitRunner,
  top: string,
  message: string,
  options: { parent?: string | null; keepIndex?: boolean } = {},
): Promise<Snapshot> {
  const index = join(tmpdir(), `relay-index-${randomUUID()}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    const head = await headOf(g, top);
    const realIndex = resolve(top, (await g.must(top, ['rev-parse', '--git-path', 'index'])).trim());
    // A copy of the real index keeps its stat data, so only files changed since are hashed again.
    const copied = await copyFile(realIndex, index).then(
      () => true,
      () => false,
    );
    if (!copied && head !== null) await g.must(top, ['read-tree', head], env);
    await g.must(top, ['add', '-A'], env);
    const tree = (await g.must(top, ['write-tree'], env)).trim();
    const parent = options.parent === undefined ? head : options.parent;
    const commit = (
      await g.must(top, ['commit-tree', tree, ...(parent === null ? [] : ['-p', parent]), '-m', message])
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
  g: GitRunner,
  nodeId: string,
  parentDir: string,
  parent: WorktreeRecord | null,
): Promise<{ record: WorktreeRecord; workingDirectory: string } | null> {
  const top = await gitTop(g, parentDir);
  if (top === null) return null;
  const repo = await mainWorktree(g, top);
  const branch = branchName(nodeId);
  const { commit: base } = await snapshot(g, top, `relay: the state ${branch} starts from`);
  const path = join(worktreesFolder(repo), nodeId.slice(0, 8));
  await addWorktree(g, repo, branch, path, base);
  const record: WorktreeRecord = { path, branch, repo, from: top, base, mainBase: parent?.mainBase ?? base };
  return { record, workingDirectory: join(path, relative(top, parentDir)) };
}

/**
 * `git worktree add -b`, with the dependencies linked in. A checkout that fails half-way (a full disk, a
 * read-only folder) leaves no branch or worktree entry behind: the fork's error is the only trace.
 */
async function addWorktree(
  g: GitRunner,
  repo: string,
  branch: string,
  path: string,
  start: string,
): Promise<void> {
  // What existed before is not ours to remove when git refuses (a folder or branch of that name already there).
  const folderExisted = existsSync(path);
  const branchExisted =
    (await g.run(repo, ['rev-parse', '--verify', '-q', `refs/heads/${branch}`])).code === 0;
  try {
    await g.must(repo, [...PARALLEL_CHECKOUT, 'worktree', 'add', '--quiet', '-b', branch, path, start]);
  } catch (error) {
    if (!folderExisted) await rm(path, { recursive: true, force: true }).catch(() => undefined);
    await g.run(repo, ['worktree', 'prune']).catch(() => undefined);
    if (!branchExisted) {
      await g.run(repo, ['update-ref', '-d', `refs/heads/${branch}`]).catch(() => undefined);
    }
    throw error;
  }
  await linkDependencies(g, repo, path);
}

/** Ignored, installed things a checkout lacks and a fork needs to build and test: dependencies, local settings. */
const SHARED_IGNORED = /^(node_modules|\.venv|venv|vendor|\.bundle|\.yarn|\.env(\..+)?)$/;
/**
 * Caches tools keep inside those folders (`node_modules/.cache`, `.vite`, …): written by each build and test run,
 * so each fork starts its own instead of racing its siblings in the main worktree's.
 */
const TOOL_CACHES = /^\.(cache|vite|vite-temp|vitest|turbo|parcel-cache|angular|nx)$/;

/**
 * A checkout has none of the project's ignored files, so `npm test` or `pytest` in a fork would find no
 * dependencies (and the sandbox lets nothing be downloaded). The main worktree's installed dependencies and local
 * settings are linked into the fork instead (shared, as they are not part of any branch). A directory becomes a
 * real one holding a link per entry: git ignores a `node_modules/` pattern only for a directory, and a linked
 * directory would show up as a new file the fork might commit.
 */
async function linkDependencies(g: GitRunner, repo: string, path: string): Promise<void> {
  // Best effort: a fork without its dependencies still works, one that failed to start does not.
  await linkEach(g, repo, path).catch(() => undefined);
}

async function linkEach(g: GitRunner, repo: string, path: string): Promise<void> {
  const { stdout, code } = await g.run(repo, [
    'ls-files',
    '--others',
    '--ignored',
    '--exclude-standard',
    '--directory',
  ]);
  if (code !== 0) return;
  for (const entry of lines(stdout)) {
    const name = entry.replace(/\/$/, '');
    if (name.includes('/') || !SHARED_IGNORED.test(name)) continue;
    if ((await lstat(join(path, name)).catch(() => null)) !== null) continue; // the branch has its own
    const source = join(repo, name);
    if (!entry.endsWith('/')) {
      await symlink(source, join(path, name));
      continue;
    }
    await mkdir(join(path, name));
    for (const child of await readdir(source)) {
      if (TOOL_CACHES.test(child)) continue;
      await symlink(join(source, child), join(path, name, child));
    }
  }
}

/**
 * A fork of a branch whose worktree is gone (`/discard`, pruned): a new worktree at the state that branch
 * started from, in the same place inside the repository.
 */
async function recreateWorktree(
  g: GitRunner,
  nodeId: string,
  gone: WorktreeRecord,
  parentDir: string,
): Promise<{ record: WorktreeRecord; workingDirectory: string }> {
  const branch = branchName(nodeId);
  const path = join(worktreesFolder(gone.repo), nodeId.slice(0, 8));
  // A pruned branch left its state behind; a discarded one did not, so its reply starts where it began.
  const start = gone.kept ?? gone.base;
  await addWorktree(g, gone.repo, branch, path, start);
  const record: WorktreeRecord = {
    path,
    branch,
    repo: gone.repo,
    from: gone.path,
    base: start,
    mainBase: gone.mainBase,
  };
  return { record, workingDirectory: join(path, relative(gone.path, parentDir)) };
}

/** What the branch changed: against the state its parent left, and against the project's HEAD now. */
async function diffWorktree(
  g: GitRunner,
  record: WorktreeRecord,
): Promise<{ vsParent: DiffPart; vsHead: DiffPart | null }> {
  const { commit } = await snapshot(g, record.path, `relay: ${record.branch} for /diff`);
  const part = async (from: string): Promise<DiffPart> => ({
    stat: (await g.must(record.path, ['diff', '--stat', from, commit])).trimEnd(),
    patch: await g.must(record.path, ['diff', from, commit]),
  });
  const head = await headOf(g, record.repo);
  return { vsParent: await part(record.base), vsHead: head === null ? null : await part(head) };
}

/**
 * Brings the branch into the main worktree. `squash`: its changes land there uncommitted (a dirty main worktree
 * is merged with, never committed); `merge`: a merge commit on the checked-out branch, only when the main
 * worktree is clean. Conflicts are found before anything is written, so nothing is ever half-applied.
 */
async function mergeWorktree(g: GitRunner, record: WorktreeRecord, style: MergeStyle): Promise<MergeOutcome> {
  const branchState = await snapshot(g, record.path, `relay: ${record.branch}`);
  return style === 'squash'
    ? squashInto(g, record, branchState.commit)
    : mergeCommitInto(g, record, branchState.commit);
}

async function squashInto(g: GitRunner, record: WorktreeRecord, theirs: string): Promise<MergeOutcome> {
  // The main worktree as it is, as a child of the merge base: the three-way merge then needs no --merge-base
  // (git 2.40) and counts what the main worktree did since this line of forks left it as "ours".
  const ours = await snapshot(g, record.repo, 'relay: the main worktree before /merge', {
    parent: record.mainBase,
    keepIndex: true,
  });
  const index = ours.index ?? '';
  try {
    const merged = await g.run(record.repo, [
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
    const files = lines(await g.must(record.repo, ['diff', '--name-only', ours.commit, tree]));
    if (files.length === 0) return { kind: 'nothing' };
    // A two-tree read-tree in the snapshot's index, whose stat data is fresh: it checks every file is as
    // snapshotted before it writes any, and updates only the files that differ.
    const read = await g.run(record.repo, ['read-tree', '-m', '-u', `${ours.commit}^{tree}`, tree], {
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

async function mergeCommitInto(g: GitRunner, record: WorktreeRecord, theirs: string): Promise<MergeOutcome> {
  const status = await g.must(record.repo, ['--no-optional-locks', 'status', '--porcelain']);
  if (status.trim() !== '') {
    return {
      kind: 'refused',
      reason:
        'the main worktree has uncommitted changes, and MERGE_STYLE=merge never commits them: commit or stash them, or use MERGE_STYLE=squash',
    };
  }
  const head = await headOf(g, record.repo);
  if (head === null) return { kind: 'refused', reason: 'the project has no commit yet to merge into' };
  const check = await g.run(record.repo, [
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
  const files = lines(await g.must(record.repo, ['diff', '--name-only', head, tree]));
  if (files.length === 0) return { kind: 'nothing' };
  await g.must(record.repo, ['update-ref', `refs/heads/${record.branch}`, theirs]);
  await g.must(record.repo, [
    'merge',
    '--no-ff',
    '-m',
    `Merge ${record.branch} (claude-relay)`,
    record.branch,
  ]);
  return { kind: 'merged', style: 'merge', files };
}

/** Removes the worktree folder and the branch; one already gone is no error. */
/** Where a pruned branch's last state is kept: a ref outside `refs/heads`, so `git branch` stays the user's. */
export const keptRef = (record: WorktreeRecord): string =>
  `refs/relay-kept/${record.branch.replace(/^relay\//, '')}`;

/**
 * Removes the worktree and its branch. `keep`: first commits everything in it (uncommitted work too) and keeps
 * that commit under `keptRef`, so nothing the branch did is lost; returns the commit.
 */
async function removeWorktree(
  g: GitRunner,
  record: WorktreeRecord,
  keep: boolean,
): Promise<string | undefined> {
  let kept: string | undefined;
  if (keep && existsSync(record.path)) {
    kept = (await snapshot(g, record.path, `relay: ${record.branch} as it was when pruned`)).commit;
    await g.must(record.repo, ['update-ref', keptRef(record), kept]);
  }
  const removed = await g.run(record.repo, ['worktree', 'remove', '--force', record.path]);
  if (removed.code !== 0) {
    await rm(record.path, { recursive: true, force: true });
    await g.run(record.repo, ['worktree', 'prune']);
  }
  await g.run(record.repo, ['update-ref', '-d', `refs/heads/${record.branch}`]);
  return kept;
}

/** Forgets a pruned branch's kept state (its conversation was cleared). */
async function forgetKept(g: GitRunner, record: WorktreeRecord): Promise<void> {
  if (record.kept !== undefined) await g.run(record.repo, ['update-ref', '-d', keptRef(record)]);
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
