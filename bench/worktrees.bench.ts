import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGitWorktrees, diskUse } from '../sessions/git-worktrees.js';
import type { Bench, BenchRow } from './types.js';

// What a fork's own worktree costs on a repository of 10,000 files (100 folders of 100 source-sized files, one
// commit, an uncommitted edit and an untracked file as a user's work in progress): the time from the parent's
// state to a ready worktree (snapshot through a temporary index + `git worktree add`), and its disk use.

const FILES = 10_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const git = (cwd: string, ...args: string[]): void => {
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], { cwd });
};

function makeRepository(dir: string): string {
  const repo = join(dir, 'repo');
  for (let folder = 0; folder < FILES / 100; folder++) {
    const path = join(repo, `pkg${folder}`);
    mkdirSync(path, { recursive: true });
    for (let file = 0; file < 100; file++) {
      const line = `export const value${file} = ${folder * 100 + file}; // a line of source\n`;
      writeFileSync(join(path, `file${file}.ts`), line.repeat(20));
    }
  }
  git(repo, 'init', '-q', '-b', 'main');
  // No background `gc --auto` writing into the repository while the bench removes it.
  git(repo, 'config', 'gc.auto', '0');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'ten thousand files');
  writeFileSync(join(repo, 'pkg0', 'file0.ts'), 'export const edited = true;\n');
  writeFileSync(join(repo, 'untracked.ts'), 'export const fresh = true;\n');
  return repo;
}

const bench: Bench = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'worktrees-bench-'));
  const rows: BenchRow[] = [];
  try {
    const repo = makeRepository(dir);
    const git = createGitWorktrees({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir });
    const times: number[] = [];
    let path = '';
    for (let run = 0; run < 5; run++) {
      // Each fork is timed on its own: what the one before it wrote is flushed first.
      execFileSync('sync');
      const started = performance.now();
      const made = await git.createWorktree(`bench${run}0000000`, repo, null);
      times.push(performance.now() - started);
      if (made === null) throw new Error('the bench repository is no git repository');
      path = made.record.path;
    }
    const createMs = median(times);
    const workingFiles = (await diskUse(repo)) - (await diskUse(join(repo, '.git')));
    const worktreeBytes = await diskUse(path);
    rows.push(
      {
        part: 'worktrees',
        name: `a fork's own worktree, ${FILES.toLocaleString('en')} files: parent's state → worktree ready`,
        value: createMs,
        unit: 'ms',
        target: '< 1 s',
        ok: createMs < 1000,
      },
      {
        part: 'worktrees',
        name: `disk use of one fork's worktree (the repository's files: ${(workingFiles / 2 ** 20).toFixed(1)} MB)`,
        value: worktreeBytes / 2 ** 20,
        unit: 'MB',
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
  return rows;
};

export default bench;
