import { stateOf } from '../../sessions/outcome.js';
import type { NodeSnapshot, NodeState, Outcome, ProgressEvent, Usage } from '../../sessions/types.js';
import { retryNotice } from './retry-notice.js';
import { emptyStepLog, reduceSteps, type StepLog } from './steps.js';

// The progress model of one task as the status message shows it: a pure fold of the engine's events.
// Bounded: only the recent part of thinking, the last tool calls and sub-agents are kept, with counts.

export interface ToolCallView {
  toolUseId: string;
  name: string;
  summary: string;
  status: 'running' | 'ok' | 'error';
  resultSummary: string | null;
}

export interface SubagentView {
  taskId: string;
  description: string;
  status: 'started' | 'progress' | 'done' | 'failed';
  /** Tool calls the sub-agent made so far, and the latest (`Bash: npm test`). */
  tools: number;
  currentTool: string | null;
}

export interface RetryView {
  attempt: number;
  maxRetries: number;
  delayMs: number;
  status: number | null;
  error: string;
}

export type ProviderWaitView = Omit<Extract<ProgressEvent, { type: 'provider_wait' }>, 'type'>;

/** The task's latest permission prompt (`CLAUDE_PERMISSIONS=ask`): waiting, or how it ended. */
export interface PermissionView {
  requestId: string;
  toolName: string;
  summary: string;
  status: 'pending' | 'allowed' | 'denied' | 'expired' | 'cancelled';
  always: boolean;
}

export interface TaskView {
  nodeId: string;
  prompt: string;
  state: NodeState;
  queuePosition: number | null;
  /** The recent part of the thinking (at most THINKING_KEPT code units). */
  thinking: string;
  tools: ToolCallView[];
  /** All tool calls seen, including those no longer in `tools`. */
  toolCallCount: number;
  subagents: SubagentView[];
  /** The last proxy retry notice; cleared when progress resumes. */
  retry: RetryView | null;
  /** Why the relay's proxy holds the request (rate limit, rate window, busy slots); cleared like `retry`. */
  waiting: ProviderWaitView | null;
  compacting: boolean;
  permission: PermissionView | null;
  /** The streamed answer text (its last ANSWER_KEPT code units). */
  answer: string;
  /** What the last event added: text and thinking arrive as deltas, joined directly within one block. */
  lastAdded: 'text' | 'thinking' | 'other';
  outcome: Outcome | null;
  usage: Usage;
  costUsd: number;
  durationMs: number | null;
  /** The model that did the work, as the provider named it (shown in the footer). */
  model: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Everything done on the way, kept for after the task ends (steps.ts). */
  steps: StepLog;
  /** The first words of the conversation this task continues (a reply's parent task); null for a new one. */
  continues: string | null;
  /** The conversation's /mode, when one was set. */
  mode: string | null;
}

export const THINKING_KEPT = 4000;
export const ANSWER_KEPT = 20_000;
export const TOOLS_KEPT = 30;
export const SUBAGENTS_KEPT = 20;

export function createTaskView(node: NodeSnapshot): TaskView {
  const durationMs =
    node.startedAt !== null && node.finishedAt !== null
      ? Math.max(0, node.finishedAt - node.startedAt)
      : null;
  return {
    nodeId: node.id,
    prompt: node.prompt,
    state: node.state,
    queuePosition: node.queuePosition,
    thinking: '',
    tools: [],
    toolCallCount: 0,
    subagents: [],
    retry: null,
    waiting: null,
    compacting: false,
    permission: null,
    answer: '',
    lastAdded: 'other',
    outcome: node.outcome,
    usage: { ...node.usage },
    costUsd: node.costUsd,
    durationMs,
    model: null,
    createdAt: node.createdAt,
    startedAt: node.startedAt,
    finishedAt: node.finishedAt,
    steps: emptyStepLog,
    continues: null,
    mode: node.run?.permissionMode ?? null,
  };
}

function keepTail(text: string, max: number): string {
  if (text.length <= max) return text;
  let start = text.length - max;
  const code = text.charCodeAt(start);
  if (code >= 0xdc00 && code <= 0xdfff) start++;
  return text.slice(start);
}

/** Deltas of one block join directly; a new block (after a tool call, say) starts a new paragraph. */
function appendText(previous: string, addition: string, sameBlock: boolean, max: number): string {
  return keepTail(previous && !sameBlock ? `${previous}\n\n${addition}` : previous + addition, max);
}

/** What the steps keep of a retry or a permission answer (the live status shows these only while current). */
function noticeOf(event: ProgressEvent): string | undefined {
  if (event.type === 'retry') return `⚠️ ${retryNotice(event)}`;
  if (event.type !== 'permission' || event.status === 'pending') return undefined;
  const how = event.always ? 'allowed for the session' : event.status;
  return `🔐 ${event.toolName} ${how}${event.summary ? `: ${event.summary}` : ''}`;
}

export function reduceTaskView(view: TaskView, event: ProgressEvent): TaskView {
  const steps = reduceSteps(view.steps, event, noticeOf(event));
  return steps === view.steps ? reduceProgress(view, event) : { ...reduceProgress(view, event), steps };
}

function reduceProgress(view: TaskView, event: ProgressEvent): TaskView {
  // Any sign of progress means the provider answered again: the retry notice is stale.
  const resumed: TaskView = { ...view, retry: null, waiting: null, compacting: false, lastAdded: 'other' };
  switch (event.type) {
    case 'state':
      return {
        ...view,
        state: event.state,
        queuePosition: event.state === 'queued' ? event.queuePosition : null,
        retry: event.state === 'running' ? view.retry : null,
        waiting: event.state === 'running' ? view.waiting : null,
      };
    case 'thinking':
      return {
        ...resumed,
        lastAdded: 'thinking',
        thinking: appendText(view.thinking, event.text, view.lastAdded === 'thinking', THINKING_KEPT),
      };
    case 'text':
      return {
        ...resumed,
        lastAdded: 'text',
        answer: appendText(view.answer, event.text, view.lastAdded === 'text', ANSWER_KEPT),
      };
    case 'tool_call': {
      const call: ToolCallView = {
        toolUseId: event.toolUseId,
        name: event.name,
        summary: event.summary,
        status: 'running',
        resultSummary: null,
      };
      return {
        ...resumed,
        tools: [...view.tools, call].slice(-TOOLS_KEPT),
        toolCallCount: view.toolCallCount + 1,
      };
    }
    case 'tool_result':
      return {
        ...resumed,
        tools: view.tools.map((call) =>
          call.toolUseId === event.toolUseId
            ? { ...call, status: event.isError ? 'error' : 'ok', resultSummary: event.summary }
            : call,
        ),
      };
    case 'subagent': {
      const known = view.subagents.some((agent) => agent.taskId === event.taskId);
      const tool = event.tool ?? null;
      const subagents = known
        ? view.subagents.map((agent) =>
            agent.taskId === event.taskId
              ? {
                  ...agent,
                  status: event.status,
                  description: event.description || agent.description,
                  tools: agent.tools + (tool === null ? 0 : 1),
                  currentTool: tool ?? agent.currentTool,
                }
              : agent,
          )
        : [
            ...view.subagents,
            {
              taskId: event.taskId,
              description: event.description || 'sub-agent',
              status: event.status,
              tools: tool === null ? 0 : 1,
              currentTool: tool,
            },
          ];
      return { ...resumed, subagents: subagents.slice(-SUBAGENTS_KEPT) };
    }
    case 'retry':
      return {
        ...view,
        // The CLI retrying means the proxy gave up waiting: its notice would only repeat an older story.
        waiting: null,
        retry: {
          attempt: event.attempt,
          maxRetries: event.maxRetries,
          delayMs: event.delayMs,
          status: event.status,
          error: event.error,
        },
      };
    case 'provider_wait':
      if (event.reason === 'over') return { ...view, waiting: null };
      return {
        ...view,
        waiting: {
          provider: event.provider,
          label: event.label,
          reason: event.reason,
          delayMs: event.delayMs,
          attempt: event.attempt,
          maxRetries: event.maxRetries,
          ...(event.fallback === undefined ? {} : { fallback: event.fallback }),
        },
      };
    case 'compacting':
      return { ...view, compacting: true };
    case 'mode':
      return { ...view, mode: event.mode };
    case 'outcome':
      return {
        ...view,
        state: stateOf(event.outcome),
        queuePosition: null,
        retry: null,
        waiting: null,
        compacting: false,
        outcome: event.outcome,
        usage: { ...event.usage },
        costUsd: event.costUsd,
        durationMs: event.durationMs,
        model: event.model,
      };
    case 'permission':
      return {
        ...view,
        permission: {
          requestId: event.requestId,
          toolName: event.toolName,
          summary: event.summary,
          status: event.status,
          always: event.always === true,
        },
      };
    default:
      // An event kind this view does not show (the engine may add kinds before the view learns them).
      return view;
  }
}
