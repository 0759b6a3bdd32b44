import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { systemClock } from '../src/common/index.js';
import { createBranches } from './branches.js';
import { createChatSettingsBook } from './chat-settings.js';
import { type CliLauncherOptions, createCliLauncher } from './cli-launcher.js';
import { createConversationModes } from './conversation-modes.js';
import { createGitWorktrees } from './git-worktrees.js';
import { createListeners } from './listeners.js';
import { isActive, snapshotOf } from './node-model.js';
import { createNodeQueue } from './node-queue.js';
import { createNodeStorage } from './node-storage.js';
import { createPool } from './pool.js';
import { restoreNodes } from './restart.js';
import { createRunLifecycle } from './run-lifecycle.js';
import { createTaskIntake } from './task-intake.js';
import { createConversationTree } from './tree.js';
import type { NodeSnapshot, SessionEngine } from './types.js';

// The session engine: conversation trees of CLI sessions (tree.ts), a pool of at most `maxSessions` processes
// (pool.ts; the engine's side of it in node-queue.ts), each node's run (run-lifecycle.ts), new tasks
// (task-intake.ts), the user's answers and modes (conversation-modes.ts), each chat's settings (chat-settings.ts),
// and a store that every state change reaches before anyone is told about it (node-storage.ts; restart.ts for what
// a start finds there). This file wires them together behind the `SessionEngine` contract.
//
// Events a platform sees per node: `state` whenever the state or the queue position changes (a new node that
// must wait gets `queued` with its position; one that starts at once gets only `running`), progress events while
// it runs, then `outcome` followed by the final `state`.

/** The CLI launcher's options (binary, proxy, environment, permissions), plus the store's. */
export interface SessionEngineOptions extends CliLauncherOptions {
  /** How long a store write waits for a lock held elsewhere before failing (default 5 s). */
  storeBusyTimeoutMs?: number;
  /** While the store refuses writes, how often the held states are retried (default 5 s). */
  storeRetryMs?: number;
  /** Origins whose forks share their parent's directory instead of a worktree each (branches.ts). */
  sharedDirectoryOrigins?: readonly string[];
}

export function createSessionEngine(options: SessionEngineOptions): SessionEngine {
  const { config, logger } = options;
  const clock = systemClock;
  const tree = createConversationTree();
  const pool = createPool({ maxRunning: config.maxSessions });
  const listeners = createListeners(logger);
  const cli = createCliLauncher(options);
  const storage = createNodeStorage({
    url: config.storeUrl,
    namespace: config.storeNamespace,
    logger,
    busyTimeoutMs: options.storeBusyTimeoutMs,
    retryMs: options.storeRetryMs,
  });
  const branches = createBranches({
    mode: config.worktrees ?? 'auto',
    mergeStyle: config.mergeStyle ?? 'squash',
    ttlMs: (config.worktreeTtlDays ?? 14) * DAY_MS,
    tree,
    git: createGitWorktrees(gitEnv(options.inheritedEnv ?? {})),
    persist: (node) => runs.persist(node),
    clock,
    logger,
    ...(options.sharedDirectoryOrigins === undefined
      ? {}
      : { sharedDirectoryOrigins: options.sharedDirectoryOrigins }),
  });
  const runs = createRunLifecycle({
    tree,
    cli,
    logger,
    clock,
    backend: config.backend,
    emit: listeners.emit,
    storage,
    freeSlot: (nodeId) => pool.release(nodeId),
    onSettled: () => {
      queue.schedule();
      branches.measure();
    },
    prepare: branches.prepare,
  });
  const queue = createNodeQueue({
    pool,
    runs,
    emit: listeners.emit,
    started: () => storage.opened,
    parentOf: tree.parentOf,
  });
  const intake = createTaskIntake({
    tree,
    queue,
    storage,
    persist: runs.persist,
    // The first project (PROJECTS, or ALLOWED_DIR's first entry) is where new conversations work by default.
    workspace: config.projects?.[0]?.path ?? config.workspace,
    storeUrl: config.storeUrl,
    clock,
    logger,
    accepting: () => storage.opened && !runs.closing,
    sharesDirectory: branches.sharesDirectory,
  });
  const chats = createChatSettingsBook();
  let startedAt = 0;
  let pruning: ReturnType<typeof setInterval> | null = null;
  const prune = (): void => {
    branches.prune().catch((error: unknown) => logger.warn({ err: error }, 'pruning worktrees failed'));
  };

  return {
    async start() {
      if (storage.opened) throw new Error('session engine already started');
      const check = await cli.check();
      mkdirSync(config.workspace, { recursive: true });
      const store = await storage.open();
      await chats.load(store);
      const interrupted = await restoreNodes(store, { tree, requeue: queue.add, logger });
      startedAt = clock.now();
      process.on('exit', runs.killAll);
      queue.schedule();
      prune();
      pruning = setInterval(prune, PRUNE_EVERY_MS);
      pruning.unref();
      return { interrupted, cli: check };
    },

    submit: intake.submit,
    linkMessage: intake.linkMessage,
    findNodeByMessage: (ref) => copyOf(tree.findByRef(ref)),
    getNode: (nodeId) => copyOf(tree.get(nodeId)),
    nodes: () => tree.select({ kind: 'all' }).map(snapshotOf),

    async stop(target) {
      const targets = tree.select(target).filter((node) => isActive(node.state));
      await queue.stop(targets);
      return { stopped: targets.map(snapshotOf) };
    },

    ...createConversationModes({ tree, runs }),

    async clear(target) {
      const roots = tree.select(target);
      const ids =
        target.kind === 'all' ? roots.map((node) => node.id) : roots.flatMap((node) => tree.branch(node.id));
      const branch = ids.map((id) => tree.get(id)).filter((node) => node !== undefined);
      // Out of the store first: if that fails nothing has changed and the caller hears why.
      await storage.remove(ids);
      await queue.stop(branch.filter((node) => isActive(node.state)));
      await branches.removeAll(branch);
      tree.remove(ids);
      storage.doneRemoving(ids);
      return { removed: branch.map(snapshotOf) };
    },

    chatSettings: chats.get,
    setChatSettings: chats.set,

    reportProviderWait(tag, wait) {
      const nodeId = cli.nodeIdOf(tag);
      const node = tree.get(nodeId);
      if (node?.state === 'running' && !storage.isRemoving(nodeId)) {
        listeners.emit(node, { type: 'provider_wait', ...wait });
      }
    },

    stats() {
      const { byState, usage, costUsd, trees } = tree.totals();
      return {
        running: runs.running,
        queued: queue.waiting,
        totalNodes: tree.size,
        trees,
        byState,
        usage,
        costUsd,
        errors: byState.error,
        uptimeMs: startedAt === 0 ? 0 : clock.now() - startedAt,
        maxSessions: config.maxSessions,
        prestarted: cli.prestarted(),
        store: storage.status(),
        worktrees: branches.usage(),
        sandbox: cli.sandbox(),
      };
    },

    branches: { diff: branches.diff, merge: branches.merge, discard: branches.discard },

    subscribe: listeners.subscribe,

    async close() {
      if (runs.closing) return;
      if (pruning !== null) clearInterval(pruning);
      process.off('exit', runs.killAll);
      cli.close();
      await runs.close();
      await storage.close();
    },
  };
}

/** What git needs of the relay's environment: where it is, and the user's git settings (safe.directory …). */
function gitEnv(inherited: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return {
    PATH: inherited.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: inherited.HOME ?? homedir(),
  };
}

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

const copyOf = (node: NodeSnapshot | undefined): NodeSnapshot | undefined =>
  node === undefined ? undefined : snapshotOf(node);
