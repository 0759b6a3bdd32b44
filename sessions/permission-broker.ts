import { randomBytes } from 'node:crypto';
import {
  alwaysAllowUpdates,
  type ControlMessage,
  encodeAllow,
  encodeDeny,
  encodeUnsupported,
  type PermissionRequest,
} from './control-protocol.js';
import { createQuestionDesk } from './questions.js';
import { summarizeToolInput } from './tool-summary.js';
import type { PermissionDecision, ProgressEvent, QuestionAnswer } from './types.js';

// The permission prompts of one CLI run (`CLAUDE_PERMISSIONS=ask`; in skip mode only questions and plans): each `can_use_tool` request becomes a
// `permission` progress event with a short id of our own (it must fit a Telegram button's 64-byte callback data
// next to the node id), waits for the user's answer, and is denied when nobody answers in time. A prompt ends
// exactly once: answered, expired, withdrawn by the CLI, or cancelled because the run stopped.

export interface PermissionBrokerOptions {
  timeoutMs: number;
  /** The session's working directory: paths in summaries are shown relative to it. */
  cwd: string;
  /**
   * Skip mode: nobody approves tool calls, only questions and plans reach the user. A call the CLI's mode would
   * have refused without a prompt tool (a write outside the sandbox's directories, a Write in plan mode) is
   * refused at once, as it was then.
   */
  unattended?: boolean;
  /** Writes one control line to the CLI's stdin; false when stdin is already closed. */
  send(line: string): boolean;
  emit(event: ProgressEvent): void;
  /** Called whenever the number of open prompts changes (the run's idle timeout waits while one is open). */
  onPendingChange(count: number): void;
}

export interface PermissionBroker {
  /** A control message the CLI printed. */
  handle(message: ControlMessage): void;
  /** The user's answer; false when no such prompt is open (already answered, expired, or never existed). */
  answer(requestId: string, decision: PermissionDecision): boolean;
  /** The user's answer to a question or plan; false when no such one is open. */
  answerQuestion(requestId: string, answer: QuestionAnswer): boolean;
  /** The run is stopping or over: open prompts end as cancelled, nothing more is sent. */
  cancelAll(): void;
}

interface Pending {
  request: PermissionRequest;
  toolName: string;
  summary: string;
  timer: NodeJS.Timeout;
}

/** "5 min", "90 s": how long the user had, in the words the model and the user see. */
function spoken(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

/** Skip mode: what the model is told of a call its mode does not allow by itself. */
const unattended = (toolName: string): string =>
  `Claude requested permissions to use ${toolName}, but nobody approves tool calls in this session: it was refused. Do it another way, or ask the user.`;

/** The model is told what happened in plain words, so it can say so or try another way. */
const DENIED = 'The user denied this tool call from chat. Do not retry it; ask them or try another way.';

export function createPermissionBroker(options: PermissionBrokerOptions): PermissionBroker {
  /** Our short request id → the open prompt. */
  const pending = new Map<string, Pending>();
  const byCliId = new Map<string, string>();
  let closed = false;
  const questions = createQuestionDesk({
    timeoutMs: options.timeoutMs,
    spokenTimeout: spoken(options.timeoutMs),
    send: options.send,
    emit: options.emit,
    onEnded(cliRequestId) {
      byCliId.delete(cliRequestId);
      options.onPendingChange(openCount());
    },
  });

  const newId = (): string => {
    let id = randomBytes(6).toString('base64url');
    while (pending.has(id) || questions.has(id)) id = randomBytes(6).toString('base64url');
    return id;
  };
  const openCount = (): number => pending.size + questions.size;

  /** AskUserQuestion and ExitPlanMode: the user picks in chat (question-prompts on the chat side). */
  const askQuestion = (request: PermissionRequest): void => {
    const id = newId();
    if (!questions.open(id, request)) return;
    byCliId.set(request.requestId, id);
    options.onPendingChange(openCount());
  };

  const end = (
    id: string,
    status: 'allowed' | 'denied' | 'expired' | 'cancelled',
    line: string | null,
    always = false,
  ): boolean => {
    const open = pending.get(id);
    if (open === undefined) return false;
    clearTimeout(open.timer);
    pending.delete(id);
    byCliId.delete(open.request.requestId);
    if (line !== null) options.send(line);
    options.emit({
      type: 'permission',
      requestId: id,
      toolName: open.toolName,
      summary: open.summary,
      status,
      ...(always ? { always: true } : {}),
    });
    options.onPendingChange(openCount());
    return true;
  };

  const ask = (request: PermissionRequest): void => {
    if (closed) return;
    if (request.toolName === 'AskUserQuestion' || request.toolName === 'ExitPlanMode') {
      askQuestion(request);
      return;
    }
    if (options.unattended === true) {
      options.send(encodeDeny(request, unattended(request.toolName)));
      return;
    }
    const id = newId();
    const summary =
      summarizeToolInput(request.toolName, request.input, options.cwd) || request.description || '';
    const timer = setTimeout(() => {
      const message = `No answer in ${spoken(options.timeoutMs)}: the tool call was denied.`;
      end(id, 'expired', encodeDeny(request, message));
    }, options.timeoutMs);
    pending.set(id, { request, toolName: request.toolName, summary, timer });
    byCliId.set(request.requestId, id);
    options.onPendingChange(openCount());
    options.emit({
      type: 'permission',
      requestId: id,
      toolName: request.toolName,
      summary,
      status: 'pending',
    });
  };

  return {
    handle(message) {
      switch (message.kind) {
        case 'can_use_tool':
          ask(message.request);
          return;
        case 'cancel': {
          const id = byCliId.get(message.requestId);
          if (id !== undefined && !end(id, 'cancelled', null)) questions.cancel(id);
          return;
        }
        case 'unsupported_request':
          options.send(encodeUnsupported(message.requestId, message.subtype));
          return;
        case 'response':
          // Replies to our own interrupt: nothing waits on them (the result line ends the turn).
          return;
      }
    },

    answer(requestId, decision) {
      const open = pending.get(requestId);
      if (open === undefined) return false;
      if (decision === 'deny') return end(requestId, 'denied', encodeDeny(open.request, DENIED));
      const updates = decision === 'always' ? alwaysAllowUpdates(open.request) : [];
      return end(requestId, 'allowed', encodeAllow(open.request, updates), decision === 'always');
    },

    answerQuestion: (requestId, answer) => questions.answer(requestId, answer),

    cancelAll() {
      closed = true;
      for (const id of [...pending.keys()]) end(id, 'cancelled', null);
      questions.cancelAll();
    },
  };
}
