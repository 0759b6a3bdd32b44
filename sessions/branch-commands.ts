import { existsSync } from 'node:fs';
import { GitError, type GitWorktrees, keptRef, type MergeStyle } from './git-worktrees.js';
import { isActive } from './node-model.js';
import type { ConversationTree } from './tree.js';
import type { BranchCommands, BranchUnavailable, MessageRef, NodeSnapshot, WorktreeRecord } from './types.js';

// /diff, /merge and /discard as replies: each finds the branch the reply names (or says why there is none), then
// asks git-worktrees.ts, one git write at a time, and turns a git failure into the answer in git's own words.

export interface BranchCommandDeps {
  mode: 'auto' | 'off';
  mergeStyle: MergeStyle;
  tree: ConversationTree;
  git: Pick<GitWorktrees, 'diffWorktree' | 'mergeWorktree' | 'forgetKept'>;
  /** Stores a node's change (its worktree record). */
  persist(node: NodeSnapshot): Promise<void>;
  /** Runs git writes one at a time (shared with worktree creation and removal). */
  serial<T>(work: () => Promise<T>): Promise<T>;
  /** Removes a node's worktree and branch and marks its record removed. */
  remove(node: NodeSnapshot): Promise<void>;
  /** Measures the disk use again, in the background. */
  measure(): void;
}

/** A git failure becomes the answer, in git's own words, rather than a failed command. */
async function answered<T>(work: () => Promise<T>): Promise<T | BranchUnavailable> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    return { kind: 'unavailable', reason: `⚠️ ${error.message}` };
  }
}

export function createBranchCommands(deps: BranchCommandDeps): BranchCommands {
  const { tree, serial, remove, measure } = deps;
  const { diffWorktree, mergeWorktree } = deps.git;

  /** The node a command's reply names, with a worktree of its own; else what to tell the user. */
  const branchOf = (ref: MessageRef): { node: NodeSnapshot; record: WorktreeRecord } | BranchUnavailable => {
    const node = tree.findByRef(ref);
    if (node === undefined) {
      return { kind: 'unavailable', reason: 'That message is not part of a conversation I know.' };
    }
    const record = node.worktree;
    if (record === undefined) {
      return {
        kind: 'unavailable',
        reason:
          node.parentId === null
            ? `That task worked in the project's main worktree (${node.workingDirectory}), not in a branch of its own: reply to a later fork of it.`
            : `That branch shares its directory (${node.workingDirectory}) with its conversation: ${
                deps.mode === 'off'
                  ? 'WORKTREES is off'
                  : 'it is not in a git repository, or git is not installed (`git init` there gives each fork its own worktree)'
              }.`,
      };
    }
    if (record.removedAt !== undefined) {
      return {
        kind: 'unavailable',
        reason:
          record.kept === undefined
            ? `That branch's worktree was removed (\`${record.branch}\`).`
            : `That branch's worktree was pruned after WORKTREE_TTL. Its last state is kept in the repository as \`${keptRef(record)}\` (\`git diff HEAD ${keptRef(record)}\`), and a reply to it continues from there; /discard as a reply drops it.`,
      };
    }
    return { node, record };
  };

  /** A branch whose folder was removed outside the relay can only be discarded. */
  const present = (
    found: { node: NodeSnapshot; record: WorktreeRecord } | BranchUnavailable,
  ): { node: NodeSnapshot; record: WorktreeRecord } | BranchUnavailable =>
    'kind' in found || existsSync(found.record.path)
      ? found
      : {
          kind: 'unavailable',
          reason: `That branch's worktree ${found.record.path} is gone (removed outside the relay): /discard as a reply removes its branch too.`,
        };

  return {
    async diff(ref) {
      const found = present(branchOf(ref));
      if ('kind' in found) return found;
      return answered(async () => {
        const { vsParent, vsHead } = await serial(() => diffWorktree(found.record));
        return { kind: 'diff', branch: found.record.branch, path: found.record.path, vsParent, vsHead };
      });
    },

    async merge(ref) {
      const found = present(branchOf(ref));
      if ('kind' in found) return found;
      const { node, record } = found;
      if (isActive(node.state)) {
        return {
          kind: 'unavailable',
          reason: 'That branch is still working: wait for it to finish, or /stop it.',
        };
      }
      const merged = await answered(() => serial(() => mergeWorktree(record, deps.mergeStyle)));
      switch (merged.kind) {
        case 'unavailable':
          return merged;
        case 'merged':
          return { ...merged, branch: record.branch, into: record.repo };
        case 'nothing':
          return { kind: 'nothing', branch: record.branch };
        case 'conflict':
          return { ...merged, branch: record.branch, into: record.repo };
        case 'refused':
          return { kind: 'unavailable', reason: `Nothing was merged: ${merged.reason}.` };
      }
    },

    async discard(ref) {
      // A pruned branch's worktree is gone, but its kept state is still there to discard.
      const pruned = tree.findByRef(ref);
      const prunedRecord = pruned?.worktree;
      if (pruned !== undefined && prunedRecord?.removedAt !== undefined && prunedRecord.kept !== undefined) {
        return answered(async () => {
          await serial(() => deps.git.forgetKept(prunedRecord));
          const { kept: _forgotten, ...rest } = prunedRecord;
          pruned.worktree = rest;
          await deps.persist(pruned);
          return { kind: 'discarded', branch: prunedRecord.branch, path: prunedRecord.path };
        });
      }
      const found = branchOf(ref);
      if ('kind' in found) return found;
      const { node, record } = found;
      if (isActive(node.state)) {
        return { kind: 'unavailable', reason: 'That branch is still working: /stop it first.' };
      }
      return answered(async () => {
        await remove(node);
        // A prune that got to the git queue first kept the branch's state: discarded means that goes too.
        const pruned = node.worktree;
        if (pruned?.kept !== undefined) {
          await serial(() => deps.git.forgetKept(pruned));
          const { kept: _forgotten, ...rest } = pruned;
          node.worktree = rest;
        }
        await deps.persist(node);
        measure();
        return { kind: 'discarded', branch: record.branch, path: record.path };
      });
    },
  };
}
