import type { MessageRef, NodeSnapshot, NodeState, ProgressEvent, TaskInput, Usage } from './types.js';

// Small pure helpers over conversation nodes: copies handed out, message keys, tree walks.

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
  };
}

export function messageKey(ref: MessageRef): string {
  return `${ref.platform}\u0000${ref.chatId}\u0000${ref.messageId}`;
}

export function isActive(state: NodeState): boolean {
  return state === 'queued' || state === 'running';
}

/** The node and every node below it, parents before children. */
export function branchOf(rootId: string, nodes: Iterable<NodeSnapshot>): string[] {
  const children = new Map<string, string[]>();
  for (const node of nodes) {
    if (node.parentId === null) continue;
    const list = children.get(node.parentId) ?? [];
    list.push(node.id);
    children.set(node.parentId, list);
  }
  const out: string[] = [];
  const pending = [rootId];
  for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
    out.push(id);
    pending.push(...(children.get(id) ?? []));
  }
  return out;
}

export function stateEvent(node: NodeSnapshot): ProgressEvent {
  return { type: 'state', state: node.state, queuePosition: node.queuePosition };
}

/** Counts by state, summed usage and cost, and the number of trees, over all nodes. */
export function totalsOf(nodes: Iterable<NodeSnapshot>): {
  byState: Record<NodeState, number>;
  usage: Usage;
  costUsd: number;
  trees: number;
} {
  const byState: Record<NodeState, number> = {
    queued: 0,
    running: 0,
    done: 0,
    error: 0,
    stopped: 0,
    interrupted: 0,
  };
  const usage = zeroUsage();
  const trees = new Set<string>();
  let costUsd = 0;
  for (const node of nodes) {
    byState[node.state] += 1;
    trees.add(node.treeId);
    usage.inputTokens += node.usage.inputTokens;
    usage.outputTokens += node.usage.outputTokens;
    usage.cacheReadTokens += node.usage.cacheReadTokens;
    usage.cacheCreationTokens += node.usage.cacheCreationTokens;
    costUsd += node.costUsd;
  }
  return { byState, usage, costUsd, trees: trees.size };
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
  return {
    id,
    treeId: parent?.treeId ?? id,
    parentId: parent?.id ?? null,
    prompt: task.prompt,
    state: 'queued',
    queuePosition: fields.queuePosition,
    sessionId: null,
    workingDirectory: parent?.workingDirectory ?? fields.workspace,
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
