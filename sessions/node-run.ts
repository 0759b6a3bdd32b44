import type { Logger } from '../src/log.js';
import type { PermissionMode } from './cli-command.js';
import { parseCliEvent } from './cli-events.js';
import { type CliRun, startCliRun } from './cli-runner.js';
import { encodeInterrupt } from './control-protocol.js';
import { toOutcome } from './outcome.js';
import { createPermissionBroker, type PermissionBroker } from './permission-broker.js';
import { createProgressMapper } from './progress.js';
import { emptyRunSummary, type RunSummary, reduceRun } from './run-summary.js';
import type { Outcome, ProgressEvent } from './types.js';

// One CLI process for one node: spawns it, folds its stdout lines into progress events and a RunSummary, serves
// its permission prompts (`ask` mode) and questions, and turns its exit into an Outcome. The engine (engine.ts) owns what
// happens around it: the pool, the tree, the store and the node's state.

const MAX_STRAY_LINES = 20;

export interface NodeRunOptions {
  nodeId: string;
  bin: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** The prompt as its stdin line (cli-command.ts `promptLine`). */
  stdin: string;
  permissions: PermissionMode;
  /** Skip mode: the CLI asks the relay its questions and plans (and only those get to the user). */
  questions: boolean;
  permissionTimeoutMs: number;
  idleTimeoutMs: number;
  graceMs: number;
  logger: Logger;
  /** CLI event types already warned about: shared by every run, so each is logged once per engine. */
  unknownTypes: Set<string>;
  emit(event: ProgressEvent): void;
  /** The run's session id, as soon as its first init line shows it. */
  onSessionId(sessionId: string): void;
  /** `prestarted`: the process is one started earlier that took this run. */
  onSpawn(pid: number, prestarted: boolean): void;
  /**
   * A process started earlier with these arguments (but the system prompt), waiting for work, and the stdin it
   * takes instead (the system prompt by initialize, then the prompt): used if it still can, else a new one starts.
   */
  prestarted?: { run: CliRun; stdin: string };
}

export interface NodeRun {
  run: CliRun;
  /** Open permission prompts and questions (`ask` mode, or skip mode with questions). */
  permissions: PermissionBroker | null;
  /** Settles once the process has exited and every line is folded in. */
  ended: Promise<{ outcome: Outcome; summary: RunSummary; exitCode: number | null }>;
}

export function startNodeRun(options: NodeRunOptions): NodeRun {
  const { logger, nodeId } = options;
  // Whether the CLI asks over stdin: then stdin stays open for the answers, and Stop is an interrupt.
  const ask = options.permissions === 'ask' || options.questions;
  let summary = emptyRunSummary;
  const mapper = createProgressMapper({ cwd: options.cwd });
  const strayLines: string[] = [];
  let strayCount = 0;
  /** Background sub-agents still running: their turns may still ask, so stdin stays open until they end. */
  let backgroundTasks = 0;
  let permissions: PermissionBroker | null = null;

  const stray = (line: string): void => {
    strayCount += 1;
    if (strayLines.length < MAX_STRAY_LINES) strayLines.push(line.slice(0, 500));
  };

  const onLine = (line: string): void => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (line.trim() !== '') stray(line);
      return;
    }
    const event = parseCliEvent(value);
    if (event === null) {
      stray(line);
      return;
    }
    if (event.kind === 'unknown' && !options.unknownTypes.has(event.type)) {
      options.unknownTypes.add(event.type);
      logger.warn({ type: event.type }, 'unknown CLI event type; skipped');
    }
    const progress = mapper.map(event);
    const before = summary.sessionId;
    summary = reduceRun(summary, event, progress);
    // Known from the first line on: a reply that arrives now can already fork it once this run ends.
    if (before === null && summary.sessionId !== null) options.onSessionId(summary.sessionId);
    for (const item of progress) options.emit(item);
    if (event.kind === 'control') {
      const message = event.message;
      // A pre-started CLI was given the task's system prompt by initialize: if it refused, the log says so.
      if (message.kind === 'response' && !message.ok && message.requestId.startsWith('init_')) {
        logger.warn({ nodeId, error: message.error }, 'the CLI refused the system prompt (initialize)');
      }
      permissions?.handle(message);
    } else if (event.kind === 'background_tasks') backgroundTasks = event.running;
    // With stdin open the CLI waits for another turn after its result; ours has none. 2.1.330 holds back the
    // first result until background sub-agents and their notification turn are done and then prints all of
    // them, but should one come earlier, the prompts of the later turns must still reach the user: so stdin
    // closes at a result only when no background task runs (background_tasks_changed).
    else if (event.kind === 'result' && backgroundTasks === 0) run.endInput();
  };

  const interrupt = ask ? { interruptLine: encodeInterrupt(`stop_${nodeId}`) } : {};
  const { prestarted } = options;
  const adopted =
    prestarted?.run.begin({ stdin: prestarted.stdin, keepInputOpen: ask, ...interrupt, onLine }) === true
      ? prestarted.run
      : null;
  const run =
    adopted ??
    startCliRun({
      bin: options.bin,
      args: options.args,
      cwd: options.cwd,
      env: options.env,
      stdin: options.stdin,
      keepInputOpen: ask,
      ...interrupt,
      idleTimeoutMs: options.idleTimeoutMs,
      graceMs: options.graceMs,
      onLine,
      onSpawn: (pid) => options.onSpawn(pid, false),
    });
  if (adopted !== null && run.pid !== undefined) options.onSpawn(run.pid, true);
  if (ask) {
    permissions = createPermissionBroker({
      timeoutMs: options.permissionTimeoutMs,
      cwd: options.cwd,
      unattended: options.permissions === 'skip',
      send: (text) => run.send(text),
      emit: options.emit,
      onPendingChange: (count) => run.holdIdle(count > 0),
    });
  }

  const ended = run.exit.then((exit) => {
    permissions?.cancelAll();
    if (strayCount > 0) {
      // Kept whatever the outcome: a run that succeeded despite them still has them in the log.
      logger.warn(
        { nodeId, count: strayCount, lines: strayLines.slice(0, 5) },
        'CLI printed non-event lines',
      );
    }
    return { outcome: toOutcome(summary, { ...exit, strayLines }), summary, exitCode: exit.exitCode };
  });
  return { run, permissions, ended };
}
