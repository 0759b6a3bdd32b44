import { randomUUID } from 'node:crypto';
import type {
  MessageRef,
  NodeSnapshot,
  ProgressEvent,
  RunOptions,
  SessionEngine,
  TaskPriority,
} from '../../sessions/index.js';

// One API request as a task of the shared engine: submitted with its priority below chat, followed through the
// engine's events, turned into what an API answer needs (text as it streams, narration of earlier turns, the
// final answer and its usage), and ended by the gateway's limits: a full queue, a queue wait, a run timeout, or
// a client that went away (its CLI is stopped, process group and all).

export const GATEWAY_PLATFORM = 'gateway';

export interface RunRequest {
  prompt: string;
  /** The node whose session this continues (a fork), or null for a new conversation. */
  parent: MessageRef | null;
  run: RunOptions;
  priority: Exclude<TaskPriority, 'chat'>;
  /** Where a new conversation works (GATEWAY_WORKSPACE); the engine's workspace when left out. */
  workspace?: string;
  /** `final`: only the last turn's text is the answer; `all`: every turn's text, as it comes. */
  stream: 'final' | 'all';
  runTimeoutMs: number;
  queueTimeoutMs: number;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
}

export type StopReason = 'end_turn' | 'max_turns';

export interface RunUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
}

export type RunEvent =
  /** A session took the request (it waited in the queue until now). */
  | { type: 'started'; treeId: string }
  /** Text of the answer, as it streams (`all`), or the whole final answer at the end (`final`). */
  | { type: 'text'; text: string }
  /** Text of a turn that went on to call tools: narration, not the answer (`final` only). */
  | { type: 'narration'; text: string }
  | {
      type: 'done';
      text: string;
      /** `max_turns`: the run stopped at its turn limit; the text is what the last turn said, if anything. */
      stopReason: StopReason;
      usage: RunUsage;
      model: string | null;
      ref: MessageRef;
      treeId: string;
    }
  | { type: 'failed'; status: 408 | 502 | 503 | 504 | 499; message: string };

export interface GatewayRunner {
  /** Runs one request; events arrive through `onEvent`, the last is `done` or `failed`. */
  run(request: RunRequest, onEvent: (event: RunEvent) => void): Promise<void>;
  counts(): { active: number; queued: number };
}

export function createGatewayRunner(engine: SessionEngine, options: { queueMax: number }): GatewayRunner {
  let queued = 0;
  let active = 0;

  return {
    counts: () => ({ active, queued }),
    async run(request, onEvent) {
      // Requests still being submitted count as waiting: a burst must not slip past the limit before the engine
      // has counted them as running.
      const stats = engine.stats();
      if (queued >= options.queueMax + Math.max(0, stats.maxSessions - stats.running)) {
        onEvent({ type: 'failed', status: 503, message: `the queue is full (${options.queueMax} waiting)` });
        return;
      }
      const origin: MessageRef = { platform: GATEWAY_PLATFORM, chatId: 'api', messageId: randomUUID() };
      const follow = followNode(engine, origin, request.stream, onEvent);
      let waiting = true;
      queued++;
      const leaveQueue = (): void => {
        if (waiting) queued--;
        waiting = false;
      };
      const stop = (): void => void engine.stop({ kind: 'message', ref: origin }).catch(() => undefined);
      const queueTimer = setTimeout(() => {
        if (!follow.started())
          follow.end({ type: 'failed', status: 408, message: 'no session became free in time' }, stop);
      }, request.queueTimeoutMs);
      let runTimer: NodeJS.Timeout | undefined;
      let gone: NodeJS.Timeout | undefined;
      const onAbort = (): void =>
        follow.end({ type: 'failed', status: 499, message: 'the client went away' }, stop);
      request.signal.addEventListener('abort', onAbort, { once: true });
      try {
        const submitted = await engine.submit({
          prompt: request.prompt,
          origin,
          replyTo: request.parent,
          priority: request.priority,
          run: request.run,
          ...(request.workspace === undefined ? {} : { workspace: request.workspace }),
        });
        if (submitted.kind === 'rejected') {
          follow.end({ type: 'failed', status: 503, message: submitted.reason }, () => undefined);
        } else if (follow.failed()) {
          // The client left, or the wait ran out, while the task was being stored: its stop found no node then.
          stop();
        }
        if (request.signal.aborted) onAbort();
        // A chat's /clear removes nodes without an outcome: a request whose node is gone ends at once.
        gone = setInterval(() => {
          if (submitted.kind === 'accepted' && engine.findNodeByMessage(origin) === undefined) {
            follow.end(
              { type: 'failed', status: 502, message: 'the conversation was cleared on the relay' },
              stop,
            );
          }
        }, 1000);
        follow.onStart((treeId) => {
          leaveQueue();
          active++;
          onEvent({ type: 'started', treeId });
          runTimer = setTimeout(
            () => follow.end({ type: 'failed', status: 504, message: 'the session ran out of time' }, stop),
            request.runTimeoutMs,
          );
        });
        await follow.finished;
      } finally {
        leaveQueue();
        if (follow.started()) active--;
        clearTimeout(queueTimer);
        clearTimeout(runTimer);
        clearInterval(gone);
        request.signal.removeEventListener('abort', onAbort);
        follow.unsubscribe();
      }
    },
  };
}

interface Follow {
  finished: Promise<void>;
  started(): boolean;
  /** Whether the request already ended with a failure (a stop may still be owed to its node). */
  failed(): boolean;
  onStart(callback: (treeId: string) => void): void;
  /** Ends the request with this event (once); `stop` ends the node's CLI if it still runs. */
  end(event: RunEvent, stop: () => void): void;
  unsubscribe(): void;
}

/** Follows the node whose first message is `origin`: its text, tool calls and outcome become run events. */
function followNode(
  engine: SessionEngine,
  origin: MessageRef,
  mode: 'final' | 'all',
  onEvent: (event: RunEvent) => void,
): Follow {
  let turnText = '';
  let ended = false;
  let failed = false;
  /** `all` mode: exactly the text the client was sent, which is the answer it will send back. */
  let sent = '';
  let running = false;
  let startCallback: ((treeId: string) => void) | null = null;
  let treeId = '';
  let resolveFinished: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    resolveFinished = resolve;
  });
  const end = (event: RunEvent, stop: () => void): void => {
    if (ended) return;
    ended = true;
    if (event.type === 'failed') {
      failed = true;
      stop();
    }
    onEvent(event);
    resolveFinished();
  };
  const isOurs = (node: NodeSnapshot): boolean =>
    node.messages[0]?.ref.platform === origin.platform &&
    node.messages[0]?.ref.messageId === origin.messageId;

  const handle = (node: NodeSnapshot, event: ProgressEvent): void => {
    if (ended) return;
    switch (event.type) {
      case 'state':
        if (event.state === 'running' && !running) {
          running = true;
          treeId = node.treeId;
          startCallback?.(treeId);
        }
        return;
      case 'text':
        if (mode === 'all') {
          sent += event.text;
          onEvent({ type: 'text', text: event.text });
        } else turnText += event.text;
        return;
      case 'tool_call':
        // The text before a tool call was narration: in `final` mode it is not the answer.
        if (mode === 'final' && turnText !== '') onEvent({ type: 'narration', text: turnText });
        else if (mode === 'all' && sent !== '') {
          sent += '\n\n';
          onEvent({ type: 'text', text: '\n\n' });
        }
        turnText = '';
        return;
      case 'outcome': {
        const usage = {
          inputTokens: event.usage.inputTokens + event.usage.cacheCreationTokens,
          outputTokens: event.usage.outputTokens,
          cacheReadTokens: event.usage.cacheReadTokens,
        };
        const outcome = event.outcome;
        const atLimit = outcome.kind === 'error' && outcome.limit === 'max_turns';
        if (outcome.kind === 'done' || atLimit) {
          // At the turn limit there is no final answer: the last turn's words (after its tools) stand for it.
          const final = outcome.kind === 'done' ? outcome.text : turnText;
          if (mode === 'final' && final !== '') onEvent({ type: 'text', text: final });
          // The answer is what the client got: in `all` mode every turn's text, as streamed.
          const text = mode === 'all' ? sent : final;
          const stopReason = atLimit ? 'max_turns' : 'end_turn';
          end(
            { type: 'done', text, stopReason, usage, model: event.model, ref: origin, treeId: node.treeId },
            () => undefined,
          );
        } else {
          const message =
            outcome.kind === 'error'
              ? outcome.message
              : outcome.kind === 'crashed'
                ? `the Claude CLI exited without an answer: ${outcome.detail}`
                : outcome.kind === 'timed_out'
                  ? 'the session stopped answering (CLI_IDLE_TIMEOUT)'
                  : outcome.kind === 'stopped'
                    ? 'the session was stopped'
                    : outcome.reason;
          end({ type: 'failed', status: outcome.kind === 'timed_out' ? 504 : 502, message }, () => undefined);
        }
        return;
      }
      default:
        return;
    }
  };
  const unsubscribe = engine.subscribe((node, event) => {
    if (isOurs(node)) handle(node, event);
  });
  return {
    finished,
    started: () => running,
    failed: () => failed,
    onStart(callback) {
      if (running) callback(treeId);
      else startCallback = callback;
    },
    end,
    unsubscribe,
  };
}
