import { stateOf } from './outcome.js';
import type { RunSummary } from './run-summary.js';
import type {
  MessageRef,
  NodeSnapshot,
  NodeState,
  Outcome,
  ProgressEvent,
  TaskInput,
  Usage,
} from './types.js';

// Small pure helpers over one conversation node: a new one, how a run's end is recorded, copies handed out,
// message keys, states.

export const zeroUsage = (): Usage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
});

/** A detached copy: listeners and callers can keep it without seeing later changes. */
export function snapshotOf(node: NodeSnapshot): NodeSnapshot {
  return {
    ...node,
    messages: node.messages.map((message) => ({ ref: { ...message.ref }, role: message.role })),
    usage: { ...node.usage },
    outcome: node.outcome === null ? null : { ...node.outcome },
    ...(node.worktree === undefined ? {} : { worktree: { ...node.worktree } }),
  };
}

export function messageKey(ref: MessageRef): string {
  return `${ref.platform}\u0000${ref.chatId}\u0000${ref.messageId}`;
}

export function isActive(state: NodeState): boolean {
  return state === 'queued' || state === 'running';
}

export function stateEvent(node: NodeSnapshot): ProgressEvent {
  return { type: 'state', state: node.state, queuePosition: node.queuePosition };
}

/** A new task's node, queued: a reply joins its parent's tree and works in the parent's directory. */
export function newNode(fields: {
  id: string;
  task: TaskInput;
  parent: NodeSnapshot | undefined;
  workspace: string;
  now: number;
  queuePosition: number;
}): NodeSnapshot {
  const { id, task, parent } = fields;
  // A reply keeps its conversation's /mode unless it says otherwise.
  const permissionMode = task.run?.permissionMode ?? parent?.run?.permissionMode;
  const run = permissionMode === undefined ? task.run : { ...task.run, permissionMode };
  return {
    id,
    treeId: parent?.treeId ?? id,
    parentId: parent?.id ?? null,
    prompt: task.prompt,
    state: 'queued',
    queuePosition: fields.queuePosition,
    sessionId: null,
    workingDirectory: parent?.workingDirectory ?? task.workspace ?? fields.workspace,
    ...(run === undefined ? {} : { run: { ...run } }),
    ...(task.priority === undefined || task.priority === 'chat' ? {} : { priority: task.priority }),
    messages: [{ ref: { ...task.origin }, role: 'prompt' }],
    createdAt: fields.now,
    startedAt: null,
    finishedAt: null,
    costUsd: 0,
    usage: zeroUsage(),
    outcome: null,
  };
}

/** A finished parent without a session cannot be forked: a reply to it starts fresh (and says so). */
export function isForkable(parent: NodeSnapshot): boolean {
  return isActive(parent.state) || parent.sessionId !== null;
}

/**
 * Records how a node's run ended: outcome, state, end time, and what the run reported. `costIsReal`: through
 * the proxy the CLI prices tokens at Anthropic's list prices for a model that did not serve them, so only the
 * CLI's own backend reports a cost.
 */
export function settleNode(
  node: NodeSnapshot,
  outcome: Outcome,
  summary: RunSummary,
  facts: { now: number; costIsReal: boolean },
): void {
  node.outcome = outcome;
  node.state = stateOf(outcome);
  node.queuePosition = null;
  node.finishedAt = facts.now;
  if (summary.sessionId !== null) node.sessionId = summary.sessionId;
  if (summary.result !== null) {
    node.costUsd = facts.costIsReal ? summary.result.costUsd : 0;
    node.usage = { ...summary.result.usage };
  }
}
