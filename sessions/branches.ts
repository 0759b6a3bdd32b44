import type { Clock } from '../src/common/index.js';
import type { Logger } from '../src/log.js';
import { createBranchCommands } from './branch-commands.js';
import { diskUse, type GitWorktrees, type MergeStyle } from './git-worktrees.js';
import { isActive } from './node-model.js';
import type { ConversationTree } from './tree.js';
import type { BranchCommands, NodeSnapshot, WorktreeRecord } from './types.js';

// A tree of conversations over a tree of working copies (WORKTREES=auto): a new conversation works in the
// project's main worktree, each fork in its own worktree made from the state its parent left (git-worktrees.ts
// does the git). The mapping lives in the node's record, so a restart keeps it. Also /diff, /merge, /discard,
// removal on /clear, pruning after WORKTREE_TTL, and the disk use /stats shows.

export interface BranchesOptions {
  mode: 'auto' | 'off';
  mergeStyle: MergeStyle;
  /** A finished branch's worktree is removed this long after its last run ended. */
  ttlMs: number;
  tree: ConversationTree;
  git: GitWorktrees;
  /** Stores a node's change (its worktree record). */
  persist(node: NodeSnapshot): Promise<void>;
  clock: Clock;
  logger: Logger;
  /**
   * Origins (platforms) whose forks continue in their parent's directory: the API gateway, where every turn of a
   * client's conversation is a fork, and a worktree per turn would only cost time and disk.
   */
  sharedDirectoryOrigins?: readonly string[];
}

export interface Branches extends BranchCommands {
  /**
   * Before a fork's CLI starts: its own worktree from its parent's state (node.workingDirectory and
   * node.worktree set and stored). Null when ready (or when it shares its parent's directory); otherwise why not.
   */
  prepare(node: NodeSnapshot): Promise<string | null>;
  /** A reply to `parent` will share its directory: worktrees are on but it is no git repository. */
  sharesDirectory(parent: NodeSnapshot): Promise<boolean>;
  /** Removes the worktrees of cleared nodes (their processes have ended). */
  removeAll(nodes: readonly NodeSnapshot[]): Promise<void>;
  /** Removes the worktrees of branches finished longer than the TTL ago; how many. */
  prune(): Promise<number>;
  /** Worktrees that exist and their bytes, as last measured. */
  usage(): { count: number; bytes: number };
  /** Measures the disk use again, in the background. */
  measure(): void;
}

const live = (record: WorktreeRecord | undefined): record is WorktreeRecord =>
  record !== undefined && record.removedAt === undefined;

export function createBranches(options: BranchesOptions): Branches {
  const { tree, logger, clock } = options;
  const { createWorktree, forgetKept, gitTop, recreateWorktree, removeWorktree } = options.git;
  let measured = { count: 0, bytes: 0 };
  let measuring = false;
  // Git writes of the relay run one at a time: two `worktree add` in one repository race for its locks.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work, work);
    chain = next.catch(() => undefined);
    return next;
  };

  const liveNodes = (): NodeSnapshot[] => tree.select({ kind: 'all' }).filter((node) => live(node.worktree));

  const measure = (): void => {
    if (measuring) return;
    measuring = true;
    void (async () => {
      const nodes = liveNodes();
      let bytes = 0;
      for (const node of nodes) if (node.worktree) bytes += await diskUse(node.worktree.path);
      measured = { count: nodes.length, bytes };
    })()
      .catch((error: unknown) => logger.warn({ err: error }, 'could not measure the worktrees'))
      .finally(() => {
        measuring = false;
      });
  };

  /** `keep`: the branch's last state stays as a commit a reply can start from (pruning; not /discard or /clear). */
  const remove = (node: NodeSnapshot, keep = false): Promise<void> =>
    // Checked inside the queue: a prune and a /clear of one branch must not both remove it (the second would
    // write a record without the first one's kept state).
    serial(async () => {
      const record = node.worktree;
      if (!live(record)) return;
      const kept = await removeWorktree(record, { keep });
      node.worktree = { ...record, removedAt: clock.now(), ...(kept === undefined ? {} : { kept }) };
    });

  const commands = createBranchCommands({ ...options, serial, remove, measure });

  return {
    ...commands,

    async prepare(node) {
      const parent = tree.parentOf(node);
      if (options.mode === 'off' || parent === undefined || live(node.worktree)) return null;
      const origin = node.messages[0]?.ref.platform;
      if (origin !== undefined && options.sharedDirectoryOrigins?.includes(origin)) return null;
      try {
        const made = await serial(() =>
          parent.worktree !== undefined && !live(parent.worktree)
            ? recreateWorktree(node.id, parent.worktree, parent.workingDirectory)
            : createWorktree(node.id, parent.workingDirectory, parent.worktree ?? null),
        );
        if (made === null) return null;
        node.workingDirectory = made.workingDirectory;
        node.worktree = made.record;
        await options.persist(node);
        measure();
        return null;
      } catch (error) {
        logger.error({ err: error, nodeId: node.id }, 'could not create the fork its worktree');
        return `Could not create this branch's own git worktree: ${error instanceof Error ? error.message : String(error)}`;
      }
    },

    async sharesDirectory(parent) {
      if (options.mode === 'off' || parent.worktree !== undefined) return false;
      // A git failure is not "no repository": the fork's own start says what git said.
      return (await gitTop(parent.workingDirectory).catch(() => '')) === null;
    },

    async removeAll(nodes) {
      for (const node of nodes) {
        try {
          await remove(node);
          const record = node.worktree;
          if (record?.kept !== undefined) await serial(() => forgetKept(record));
        } catch (error) {
          logger.warn({ err: error, nodeId: node.id }, 'could not remove a cleared branch its worktree');
        }
      }
      measure();
    },

    async prune() {
      const due = clock.now() - options.ttlMs;
      let pruned = 0;
      for (const node of liveNodes()) {
        if (isActive(node.state) || node.finishedAt === null || node.finishedAt > due) continue;
        try {
          await remove(node, true);
          await options.persist(node);
          pruned += 1;
        } catch (error) {
          logger.warn({ err: error, nodeId: node.id }, 'could not prune a finished branch its worktree');
        }
      }
      if (pruned > 0) logger.info({ pruned }, 'pruned the worktrees of branches finished before the TTL');
      measure();
      return pruned;
    },

    usage: () => measured,
    measure,
  };
}
