import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { SessionsConfig } from '../src/config.js';
import type { Logger } from '../src/log.js';
import {
  buildCliArgs,
  buildCliEnv,
  type PermissionMode,
  promptLine,
  resolveBundledClaude,
} from './cli-command.js';
import type { CliRun } from './cli-runner.js';
import { checkCliVersion, TESTED_CLI_VERSIONS } from './cli-version.js';
import { type CliProcessRecord, NODE_ID_ENV, readCliProcessRecord } from './leftover-processes.js';
import { branchOf, isActive, messageKey, snapshotOf, stateEvent, totalsOf, zeroUsage } from './node-model.js';
import { startNodeRun } from './node-run.js';
import { createNodeWriter, type NodeWriter } from './node-writer.js';
import { stateOf, type Termination } from './outcome.js';
import type { PermissionBroker } from './permission-broker.js';
import { interruptLeftRunning } from './restart.js';
import { emptyRunSummary, type RunSummary } from './run-summary.js';
import { briefError, type NodeStore, openNodeStore, redactStoreUrl, StoreError } from './store.js';
import type {
  EngineListener,
  EngineStats,
  MessageRef,
  NodeSnapshot,
  Outcome,
  ProgressEvent,
  SessionEngine,
  SubmitResult,
  Target,
} from './types.js';

// The session engine: conversation trees of CLI sessions, a FIFO pool of at most `maxSessions` processes, and a
// store that every state change reaches before anyone is told about it.
//
// Events a platform sees per node: `state` whenever the state or the queue position changes (a new node that
// must wait gets `queued` with its position; one that starts at once gets only `running`), progress events while
// it runs, then `outcome` followed by the final `state`.

export interface SessionEngineOptions {
  config: SessionsConfig;
  /**
   * The embedded proxy. With `nodeHeader`, each CLI sends that header naming its node, so the proxy can say
   * which session a provider wait holds (`reportProviderWait`).
   */
  proxy: { url: string; authToken: string | undefined; nodeHeader?: string } | null;
  logger: Logger;
  /** Extra environment for CLI children (tests: a temporary HOME). */
  childEnv?: Record<string, string>;
  /** The relay's own environment; only an allow-list (PATH, HOME, LANG …) is passed on. */
  inheritedEnv?: Readonly<Record<string, string | undefined>>;
  /** Wait after SIGINT before SIGTERM, and again before SIGKILL (default 2 s). */
  stopGraceMs?: number;
  /** How long a store write waits for a lock held elsewhere before failing (default 5 s). */
  storeBusyTimeoutMs?: number;
  /** While the store refuses writes, how often the held states are retried (default 5 s). */
  storeRetryMs?: number;
  /** `CLAUDE_PERMISSIONS`: `skip` (default) runs every tool call; `ask` asks the user in chat first. */
  permissions?: PermissionMode;
  /** `PERMISSION_TIMEOUT`: an unanswered prompt is denied after this long (default 5 min). */
  permissionTimeoutMs?: number;
}

/** Prompts travel over stdin, so the argv limit does not apply; this only bounds memory and the store. */
const MAX_PROMPT_CHARS = 1_000_000;

interface ActiveRun {
  stopRequested: boolean;
  run: CliRun | null;
  /** Open permission prompts (`ask` mode only). */
  permissions: PermissionBroker | null;
  done: Promise<void>;
}

export function createSessionEngine(options: SessionEngineOptions): SessionEngine {
  const { config, logger } = options;
  const bin = config.claudeBin ?? resolveBundledClaude();
  const graceMs = options.stopGraceMs ?? 2000;
  const permissions = options.permissions ?? config.permissions ?? 'skip';
  const permissionTimeoutMs = options.permissionTimeoutMs ?? config.permissionTimeoutMs ?? 300_000;
  const env = buildCliEnv({
    permissions,
    inherited: options.inheritedEnv ?? {},
    backend: config.backend,
    proxy: options.proxy,
    uid: process.getuid?.() ?? -1,
    extra: options.childEnv ?? {},
  });

  const nodeHeader = config.backend === 'proxy' ? options.proxy?.nodeHeader : undefined;
  const nodeHeaderEnv = (nodeId: string): Record<string, string> =>
    nodeHeader === undefined ? {} : { ANTHROPIC_CUSTOM_HEADERS: `${nodeHeader}: ${nodeId}` };

  const nodes = new Map<string, NodeSnapshot>();
  const byMessage = new Map<string, string>();
  const queue: string[] = [];
  const running = new Map<string, ActiveRun>();
  const listeners = new Set<EngineListener>();
  const unknownTypes = new Set<string>();
  /** Nodes being cleared: their runs end without writing or announcing anything. */
  const removing = new Set<string>();
  /** The CLI process of each running node, stored with it so the next start can end one left running. */
  const processes = new Map<string, CliProcessRecord>();
  let store: NodeStore | null = null;
  let writer: NodeWriter | null = null;
  let startedAt = 0;
  let closing = false;

  const emit = (node: NodeSnapshot, event: ProgressEvent): void => {
    if (listeners.size === 0) return;
    const view = snapshotOf(node);
    for (const listener of listeners) {
      try {
        listener(view, event);
      } catch (error) {
        logger.error({ err: error, nodeId: node.id }, 'engine listener threw');
      }
    }
  };

  /** A state change of an accepted node: never throws; a failed write is held and retried (node-writer.ts). */
  const persist = async (node: NodeSnapshot): Promise<void> => {
    if (writer === null) throw new Error('session engine is not started');
    if (removing.has(node.id) || !nodes.has(node.id)) return;
    await writer.write(node);
  };

  const index = (node: NodeSnapshot): void => {
    for (const message of node.messages) {
      const key = messageKey(message.ref);
      if (!byMessage.has(key)) byMessage.set(key, node.id);
    }
  };

  const findByRef = (ref: MessageRef): NodeSnapshot | undefined => {
    const id = byMessage.get(messageKey(ref));
    return id === undefined ? undefined : nodes.get(id);
  };

  /** A reply waits while the node it forks from may still change its session. */
  const parentSettled = (node: NodeSnapshot): boolean => {
    const parent = node.parentId === null ? undefined : nodes.get(node.parentId);
    return parent === undefined || !isActive(parent.state);
  };

  const announcePositions = (): void => {
    queue.forEach((id, at) => {
      const node = nodes.get(id);
      if (node === undefined || node.queuePosition === at + 1) return;
      node.queuePosition = at + 1;
      emit(node, stateEvent(node));
    });
  };

  const schedule = (): void => {
    if (closing || store === null) return;
    while (running.size < config.maxSessions) {
      const at = queue.findIndex((id) => {
        const node = nodes.get(id);
        return node !== undefined && parentSettled(node);
      });
      if (at === -1) break;
      const [id] = queue.splice(at, 1);
      const node = id === undefined ? undefined : nodes.get(id);
      if (node !== undefined) launch(node);
    }
    announcePositions();
  };

  const finish = async (node: NodeSnapshot, outcome: Outcome, summary: RunSummary): Promise<void> => {
    if (removing.has(node.id) || !nodes.has(node.id)) return;
    // The slot is free before anyone hears of the end, so stats() agree with the final events.
    running.delete(node.id);
    processes.delete(node.id);
    node.outcome = outcome;
    node.state = stateOf(outcome);
    node.queuePosition = null;
    node.finishedAt = Date.now();
    if (summary.sessionId !== null) node.sessionId = summary.sessionId;
    if (summary.result !== null) {
      // Through the proxy the CLI prices tokens at Anthropic's list prices for a model that did not serve them:
      // the figure would be fiction, so only the CLI's own backend reports a cost.
      node.costUsd = config.backend === 'anthropic' ? summary.result.costUsd : 0;
      node.usage = { ...summary.result.usage };
    }
    await persist(node);
    emit(node, {
      type: 'outcome',
      outcome,
      usage: { ...node.usage },
      costUsd: node.costUsd,
      durationMs: node.finishedAt - (node.startedAt ?? node.createdAt),
      model: summary.model,
    });
    emit(node, stateEvent(node));
  };

  const runNode = async (node: NodeSnapshot, active: ActiveRun): Promise<void> => {
    const parent = node.parentId === null ? undefined : nodes.get(node.parentId);
    node.forkOf = parent?.sessionId ?? null;
    await persist(node);
    if (closing) {
      // Shutting down before the process started: it never ran, so it waits for the next start.
      node.state = 'queued';
      node.startedAt = null;
      await persist(node);
      return;
    }
    emit(node, stateEvent(node));
    if (active.stopRequested) {
      await finish(node, { kind: 'stopped', partialText: '' }, emptyRunSummary);
      return;
    }

    let sessionWrite: Promise<void> = Promise.resolve();
    const current = startNodeRun({
      nodeId: node.id,
      bin,
      args: buildCliArgs({ addDirs: config.allowedDirs, resumeSessionId: node.forkOf, permissions }),
      cwd: node.workingDirectory,
      // Marks the CLI and every tool it starts as this node's, so a restart can recognise them (leftover-processes.ts).
      env: { ...env, [NODE_ID_ENV]: node.id, ...nodeHeaderEnv(node.id) },
      stdin: promptLine(node.prompt),
      permissions,
      permissionTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      graceMs,
      logger,
      unknownTypes,
      emit: (event) => emit(node, event),
      onSessionId(sessionId) {
        node.sessionId = sessionId;
        sessionWrite = sessionWrite.then(() => persist(node));
      },
      onSpawn(pid) {
        // Read now: the child cannot be reaped before we wait for it, so this pid is still ours.
        const record = readCliProcessRecord(pid);
        if (record !== null) processes.set(node.id, record);
      },
    });
    active.run = current.run;
    active.permissions = current.permissions;
    logger.info({ nodeId: node.id, pid: current.run.pid, forkOf: node.forkOf }, 'CLI started');
    sessionWrite = sessionWrite.then(() => persist(node));
    const { outcome, summary, exitCode } = await current.ended;
    await sessionWrite;
    logger.info({ nodeId: node.id, outcome: outcome.kind, exitCode }, 'CLI ended');
    // Shutting down: an unfinished node stays `running` in the store, so the next start reports it interrupted.
    if (closing && outcome.kind !== 'done') return;
    await finish(node, outcome, summary);
  };

  const launch = (node: NodeSnapshot): void => {
    node.state = 'running';
    node.queuePosition = null;
    node.startedAt = Date.now();
    const active: ActiveRun = { stopRequested: false, run: null, permissions: null, done: Promise.resolve() };
    running.set(node.id, active);
    active.done = runNode(node, active)
      .catch((error: unknown) => logger.error({ err: error, nodeId: node.id }, 'session run failed'))
      .finally(() => {
        running.delete(node.id);
        schedule();
      });
  };

  /** Ends queued nodes at once and running ones through their process; resolves when all are settled. */
  const stopNodes = async (targets: NodeSnapshot[]): Promise<void> => {
    const waits: Promise<void>[] = [];
    for (const node of targets) {
      const at = queue.indexOf(node.id);
      if (at !== -1) {
        queue.splice(at, 1);
        waits.push(finish(node, { kind: 'stopped', partialText: '' }, emptyRunSummary));
        continue;
      }
      const active = running.get(node.id);
      if (active !== undefined) {
        active.stopRequested = true;
        // Open prompts end now, not when the CLI gets round to withdrawing them.
        active.permissions?.cancelAll();
        active.run?.stop('stop' satisfies Termination);
        waits.push(active.done);
      }
    }
    await Promise.all(waits);
    schedule();
  };

  const targetsOf = (target: Target): NodeSnapshot[] => {
    if (target.kind === 'all') return [...nodes.values()];
    const node = findByRef(target.ref);
    return node === undefined ? [] : [node];
  };

  const killAll = (): void => {
    for (const active of running.values()) active.run?.kill();
  };

  return {
    async start() {
      if (store !== null) throw new Error('session engine already started');
      const cli = await checkCliVersion(bin, env);
      if (!cli.ok) {
        logger.error(
          { bin },
          `${cli.problem}: every task will fail until CLAUDE_BIN names a Claude Code CLI (or is unset, for the bundled one)`,
        );
      } else if (cli.tested) logger.info({ bin, version: cli.version }, 'Claude Code CLI found');
      else {
        logger.warn(
          { bin, version: cli.version, tested: TESTED_CLI_VERSIONS },
          `Claude Code ${cli.version} has not been tested with this relay (tested: ${TESTED_CLI_VERSIONS.join(', ')}); if tasks misbehave, unset CLAUDE_BIN to use the bundled one`,
        );
      }
      mkdirSync(config.workspace, { recursive: true });
      store = await openNodeStore(config.storeUrl, logger, { busyTimeoutMs: options.storeBusyTimeoutMs });
      writer = createNodeWriter({
        store,
        logger,
        retryMs: options.storeRetryMs ?? 5000,
        processOf: (id) => processes.get(id) ?? null,
      });
      const { nodes: loaded, processes: recorded, unreadable } = await store.load();
      loaded.sort((a, b) => a.createdAt - b.createdAt);
      const interrupted: NodeSnapshot[] = [];
      for (const node of loaded) {
        nodes.set(node.id, node);
        index(node);
      }
      for (const node of loaded) {
        if (node.state === 'running') {
          await interruptLeftRunning(node, recorded.get(node.id) ?? null, logger);
          // Strict here: a store that cannot record this must fail the start, not hide the interruption.
          await store.save(snapshotOf(node), null);
          interrupted.push(snapshotOf(node));
        } else if (node.state === 'queued') {
          node.queuePosition = null;
          queue.push(node.id);
        }
      }
      startedAt = Date.now();
      process.on('exit', killAll);
      logger.info(
        { nodes: loaded.length, requeued: queue.length, interrupted: interrupted.length, unreadable },
        'session store loaded',
      );
      schedule();
      return { interrupted, cli };
    },

    async submit(task): Promise<SubmitResult> {
      if (store === null || closing)
        return { kind: 'rejected', reason: 'The session engine is not running.' };
      if (task.prompt.trim() === '') {
        return { kind: 'rejected', reason: 'The task is empty: write what Claude should do.' };
      }
      if (task.prompt.length > MAX_PROMPT_CHARS) {
        return {
          kind: 'rejected',
          reason: `The task is too long (${task.prompt.length} characters, at most ${MAX_PROMPT_CHARS}).`,
        };
      }
      if (byMessage.has(messageKey(task.origin))) {
        return { kind: 'rejected', reason: 'This message is already a task.' };
      }
      // A reply to a message no node owns starts a new conversation, as a message that is no reply does.
      const parent = task.replyTo === null ? undefined : findByRef(task.replyTo);
      const id = randomUUID();
      const node: NodeSnapshot = {
        id,
        treeId: parent?.treeId ?? id,
        parentId: parent?.id ?? null,
        prompt: task.prompt,
        state: 'queued',
        queuePosition: queue.length + 1,
        sessionId: null,
        workingDirectory: parent?.workingDirectory ?? config.workspace,
        messages: [{ ref: { ...task.origin }, role: 'prompt' }],
        createdAt: Date.now(),
        startedAt: null,
        finishedAt: null,
        costUsd: 0,
        usage: zeroUsage(),
        outcome: null,
      };
      try {
        await writer?.mustWrite(node);
      } catch (error) {
        logger.error(
          { err: error, url: redactStoreUrl(config.storeUrl) },
          'task rejected: store not writable',
        );
        return {
          kind: 'rejected',
          reason:
            `The task was not started: the relay cannot save it right now (session store: ${briefError(error instanceof Error && error.cause !== undefined ? error.cause : error)}). ` +
            'Send it again in a moment; tasks already running go on.',
        };
      }
      nodes.set(id, node);
      index(node);
      queue.push(id);
      node.queuePosition = null; // announced (and set) by schedule unless it starts at once
      schedule();
      // A finished parent without a session cannot be forked: the reply starts fresh and says so.
      const forkable = parent !== undefined && (isActive(parent.state) || parent.sessionId !== null);
      return {
        kind: 'accepted',
        node: snapshotOf(node),
        forkedFrom: forkable && parent !== undefined ? snapshotOf(parent) : null,
      };
    },

    async linkMessage(nodeId, ref, role) {
      const node = nodes.get(nodeId);
      if (node === undefined) throw new Error(`linkMessage: no node ${nodeId}`);
      const key = messageKey(ref);
      const owner = byMessage.get(key);
      if (owner !== undefined) {
        if (owner !== nodeId) logger.warn({ nodeId, owner }, 'message already belongs to another node');
        return;
      }
      node.messages.push({ ref: { ...ref }, role });
      // Indexed at once, so a reply forks this node even while the store is refusing writes (then retried).
      byMessage.set(key, nodeId);
      await persist(node);
    },

    findNodeByMessage(ref) {
      const node = findByRef(ref);
      return node === undefined ? undefined : snapshotOf(node);
    },

    getNode(nodeId) {
      const node = nodes.get(nodeId);
      return node === undefined ? undefined : snapshotOf(node);
    },

    async stop(target) {
      const targets = targetsOf(target).filter((node) => isActive(node.state));
      await stopNodes(targets);
      return { stopped: targets.map(snapshotOf) };
    },

    async answerPermission(nodeId, requestId, decision) {
      return running.get(nodeId)?.permissions?.answer(requestId, decision) ?? false;
    },

    async clear(target) {
      const roots = targetsOf(target);
      const ids =
        target.kind === 'all'
          ? roots.map((node) => node.id)
          : roots.flatMap((node) => branchOf(node.id, nodes.values()));
      const branch = ids.map((id) => nodes.get(id)).filter((node) => node !== undefined);
      // Out of the store first: if that fails nothing has changed and the caller hears why. From here on no
      // write of these nodes may land (persist skips nodes being removed), so none comes back on a restart.
      for (const node of branch) removing.add(node.id);
      try {
        await store?.remove(ids);
      } catch (error) {
        for (const node of branch) removing.delete(node.id);
        throw new StoreError(`could not clear: the session store cannot be written (${briefError(error)})`, {
          cause: error,
        });
      }
      writer?.forget(ids);
      await stopNodes(branch.filter((node) => isActive(node.state)));
      for (const node of branch) {
        nodes.delete(node.id);
        removing.delete(node.id);
        for (const message of node.messages) byMessage.delete(messageKey(message.ref));
      }
      return { removed: branch.map(snapshotOf) };
    },

    reportProviderWait(nodeId, wait) {
      const node = nodes.get(nodeId);
      if (node?.state === 'running' && !removing.has(nodeId)) emit(node, { type: 'provider_wait', ...wait });
    },

    stats(): EngineStats {
      const { byState, usage, costUsd, trees } = totalsOf(nodes.values());
      return {
        running: running.size,
        queued: queue.length,
        totalNodes: nodes.size,
        trees,
        byState,
        usage,
        costUsd,
        errors: byState.error,
        uptimeMs: startedAt === 0 ? 0 : Date.now() - startedAt,
        maxSessions: config.maxSessions,
        store: writer?.status() ?? { writable: false, pendingWrites: 0, lastError: 'not started' },
      };
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async close() {
      if (closing) return;
      closing = true;
      process.off('exit', killAll);
      const waits = [...running.values()].map((active) => {
        active.run?.stop('stop');
        return active.done;
      });
      await Promise.all(waits);
      await writer?.close();
      await store?.close();
    },
  };
}
