import type { Clock } from '../src/common/index.js';
import type { Logger } from '../src/log.js';
import type { CliLauncher } from './cli-launcher.js';
import type { CliRun } from './cli-runner.js';
import { readCliProcessRecord } from './leftover-processes.js';
import { settleNode, stateEvent } from './node-model.js';
import type { NodeStorage } from './node-storage.js';
import type { Termination } from './outcome.js';
import type { PermissionBroker } from './permission-broker.js';
import { emptyRunSummary, type RunSummary } from './run-summary.js';
import type { ConversationTree } from './tree.js';
import type { NodeSnapshot, Outcome, PermissionDecision, ProgressEvent, QuestionAnswer } from './types.js';

// A node from the moment it takes a slot until its outcome is stored and told: starts its CLI (a fork of its
// parent's session), keeps the store up to date with each state change before listeners hear of it, stops it on
// request, and settles it with the outcome. Shutting down, it leaves unfinished nodes as the next start expects
// them: never started ones queued, started ones running (then reported interrupted).

export interface RunLifecycleOptions {
  tree: ConversationTree;
  cli: CliLauncher;
  logger: Logger;
  clock: Clock;
  /** Only the CLI's own backend prices tokens truly (node-model.ts `settleNode`). */
  backend: 'proxy' | 'anthropic';
  /** Where state changes go; `write` never throws for a store that refuses. */
  storage: Pick<NodeStorage, 'write' | 'isRemoving' | 'setProcess'>;
  emit(node: NodeSnapshot, event: ProgressEvent): void;
  /** The node holds no slot (any more); may come twice for one run, and for a node that never ran. */
  freeSlot(nodeId: string): void;
  /** A run is over and its outcome stored and told: the next tasks may start. */
  onSettled(): void;
  /** Before the CLI starts: the node's working directory made ready (a fork's worktree); else why it cannot. */
  prepare?(node: NodeSnapshot): Promise<string | null>;
}

export interface RunLifecycle {
  /** Nodes with a run in progress. */
  readonly running: number;
  readonly closing: boolean;
  /** Marks the node running and starts its run; `onSettled` follows when it is over. */
  launch(node: NodeSnapshot): void;
  /** Ends a node that never started as stopped. */
  stopWaiting(node: NodeSnapshot): Promise<void>;
  /** Ends a node given a slot without running it (its parent failed); `onSettled` follows. */
  skip(node: NodeSnapshot, outcome: Outcome): void;
  /** Ends a running node's run; resolves when it is settled (at once when none runs). */
  stop(nodeId: string): Promise<void>;
  answerPermission(nodeId: string, requestId: string, decision: PermissionDecision): boolean;
  answerQuestion(nodeId: string, requestId: string, answer: QuestionAnswer): boolean;
  /** A state change of an accepted node, unless it is gone or being cleared. */
  persist(node: NodeSnapshot): Promise<void>;
  /** Stops every run and resolves when all have ended; nothing starts any more. */
  close(): Promise<void>;
  /** SIGKILL to every run at once (the relay itself is exiting). */
  killAll(): void;
}

interface ActiveRun {
  stopRequested: boolean;
  run: CliRun | null;
  /** Open permission prompts (`ask` mode only). */
  permissions: PermissionBroker | null;
  done: Promise<void>;
}

const STOPPED: Outcome = { kind: 'stopped', partialText: '' };

export function createRunLifecycle(options: RunLifecycleOptions): RunLifecycle {
  const { tree, cli, logger, clock, emit, storage } = options;
  const active = new Map<string, ActiveRun>();
  let closing = false;

  /** A node being cleared (or gone): its run ends without writing or telling anything. */
  const gone = (node: NodeSnapshot): boolean => storage.isRemoving(node.id) || !tree.has(node.id);

  const persist = async (node: NodeSnapshot): Promise<void> => {
    if (!gone(node)) await storage.write(node);
  };

  const finish = async (node: NodeSnapshot, outcome: Outcome, summary: RunSummary): Promise<void> => {
    if (gone(node)) return;
    // The slot is free before anyone hears of the end, so the engine's stats agree with the final events and a
    // reply waiting for this node may start at the next dispatch.
    active.delete(node.id);
    options.freeSlot(node.id);
    storage.setProcess(node.id, null);
    const now = clock.now();
    settleNode(node, outcome, summary, { now, costIsReal: options.backend === 'anthropic' });
    await persist(node);
    emit(node, {
      type: 'outcome',
      outcome,
      usage: { ...node.usage },
      costUsd: node.costUsd,
      durationMs: now - (node.startedAt ?? node.createdAt),
      model: summary.model,
    });
    emit(node, stateEvent(node));
  };

  const runCli = async (node: NodeSnapshot, run: ActiveRun): Promise<void> => {
    let sessionWrite: Promise<void> = Promise.resolve();
    const current = cli.start(node, {
      emit: (event) => emit(node, event),
      onSessionId(sessionId) {
        node.sessionId = sessionId;
        sessionWrite = sessionWrite.then(() => persist(node));
      },
      onSpawn(pid, tag) {
        // Read now: a CLI started for this node cannot have been reaped yet, and a pre-started one had not exited
        // when it took the work, so this pid is still ours.
        const record = readCliProcessRecord(pid);
        if (record !== null) storage.setProcess(node.id, tag === undefined ? record : { ...record, tag });
      },
    });
    run.run = current.run;
    run.permissions = current.permissions;
    // The CLI has the prompt's images now: the node need not hold them while it lives in the tree.
    if (node.run?.images !== undefined) {
      const { images: _images, ...rest } = node.run;
      node.run = rest;
    }
    logger.info({ nodeId: node.id, pid: current.run.pid, forkOf: node.forkOf }, 'CLI started');
    sessionWrite = sessionWrite.then(() => persist(node));
    const { outcome, summary, exitCode } = await current.ended;
    await sessionWrite;
    logger.info({ nodeId: node.id, outcome: outcome.kind, exitCode }, 'CLI ended');
    // Shutting down: an unfinished node stays `running` in the store, so the next start reports it interrupted.
    if (closing && outcome.kind !== 'done') return;
    await finish(node, outcome, summary);
  };

  const runNode = async (node: NodeSnapshot, run: ActiveRun): Promise<void> => {
    node.forkOf = tree.parentOf(node)?.sessionId ?? null;
    await persist(node);
    const problem = closing ? null : ((await options.prepare?.(node)) ?? null);
    if (closing) {
      // Shutting down before the process started: it never ran, so it waits for the next start.
      node.state = 'queued';
      node.startedAt = null;
      await persist(node);
      return;
    }
    emit(node, stateEvent(node));
    if (run.stopRequested) await finish(node, STOPPED, emptyRunSummary);
    else if (problem !== null) await finish(node, { kind: 'error', message: problem }, emptyRunSummary);
    else await runCli(node, run);
  };

  return {
    get running() {
      return active.size;
    },
    get closing() {
      return closing;
    },
    launch(node) {
      node.state = 'running';
      node.queuePosition = null;
      node.startedAt = clock.now();
      const run: ActiveRun = { stopRequested: false, run: null, permissions: null, done: Promise.resolve() };
      active.set(node.id, run);
      run.done = runNode(node, run)
        .catch((error: unknown) => logger.error({ err: error, nodeId: node.id }, 'session run failed'))
        .finally(() => {
          active.delete(node.id);
          options.freeSlot(node.id);
          options.onSettled();
        });
    },
    stopWaiting: (node) => finish(node, STOPPED, emptyRunSummary),
    skip(node, outcome) {
      finish(node, outcome, emptyRunSummary)
        .catch((error: unknown) => logger.error({ err: error, nodeId: node.id }, 'could not skip a task'))
        .finally(() => {
          options.freeSlot(node.id);
          options.onSettled();
        });
    },
    stop(nodeId) {
      const run = active.get(nodeId);
      if (run === undefined) return Promise.resolve();
      run.stopRequested = true;
      // Open prompts end now, not when the CLI gets round to withdrawing them.
      run.permissions?.cancelAll();
      run.run?.stop('stop' satisfies Termination);
      return run.done;
    },
    answerQuestion: (nodeId, requestId, answer) =>
      active.get(nodeId)?.permissions?.answerQuestion(requestId, answer) ?? false,
    answerPermission: (nodeId, requestId, decision) =>
      active.get(nodeId)?.permissions?.answer(requestId, decision) ?? false,
    persist,
    async close() {
      closing = true;
      for (const run of active.values()) run.run?.stop('stop');
      await Promise.all([...active.values()].map((run) => run.done));
    },
    killAll() {
      for (const run of active.values()) run.run?.kill();
    },
  };
}
