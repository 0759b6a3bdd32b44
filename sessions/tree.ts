import { messageKey, zeroUsage } from './node-model.js';
import type { MessageRef, MessageRole, NodeSnapshot, NodeState, Target, Usage } from './types.js';

// The conversation trees: every node the engine knows, and which node each chat message belongs to (a reply to
// any of them forks that node). Pure: no I/O, no timers. It holds the live node objects the run lifecycle
// updates; what leaves the engine are copies (node-model.ts `snapshotOf`).

export type LinkResult = { kind: 'linked'; node: NodeSnapshot } | { kind: 'owned'; owner: string };

export interface Totals {
  byState: Record<NodeState, number>;
  usage: Usage;
  costUsd: number;
  trees: number;
}

export interface ConversationTree {
  readonly size: number;
  get(id: string): NodeSnapshot | undefined;
  has(id: string): boolean;
  /** The node a message belongs to. */
  findByRef(ref: MessageRef): NodeSnapshot | undefined;
  parentOf(node: NodeSnapshot): NodeSnapshot | undefined;
  /** Every node for `all`, else the node owning the message (none when no node owns it). */
  select(target: Target): NodeSnapshot[];
  /** Adds a node with its messages; a message some node already owns stays with that node. */
  add(node: NodeSnapshot): void;
  /** Records a message as the node's unless a node (this one, too) owns it already; throws for an unknown node. */
  link(nodeId: string, ref: MessageRef, role: MessageRole): LinkResult;
  /** The node and every node below it, parents before children. */
  branch(rootId: string): string[];
  /** Takes the nodes and their messages out; returns the nodes that were there. */
  remove(ids: Iterable<string>): NodeSnapshot[];
  totals(): Totals;
}

export function createConversationTree(): ConversationTree {
  const nodes = new Map<string, NodeSnapshot>();
  /** Message key → id of the node it belongs to. */
  const byMessage = new Map<string, string>();

  const findByRef = (ref: MessageRef): NodeSnapshot | undefined => {
    const id = byMessage.get(messageKey(ref));
    return id === undefined ? undefined : nodes.get(id);
  };

  return {
    get size() {
      return nodes.size;
    },
    get: (id) => nodes.get(id),
    has: (id) => nodes.has(id),
    findByRef,
    parentOf: (node) => (node.parentId === null ? undefined : nodes.get(node.parentId)),
    select(target) {
      if (target.kind === 'all') return [...nodes.values()];
      const node = findByRef(target.ref);
      return node === undefined ? [] : [node];
    },
    add(node) {
      nodes.set(node.id, node);
      for (const message of node.messages) {
        const key = messageKey(message.ref);
        if (!byMessage.has(key)) byMessage.set(key, node.id);
      }
    },
    link(nodeId, ref, role) {
      const node = nodes.get(nodeId);
      if (node === undefined) throw new Error(`linkMessage: no node ${nodeId}`);
      const key = messageKey(ref);
      const owner = byMessage.get(key);
      if (owner !== undefined) return { kind: 'owned', owner };
      node.messages.push({ ref: { ...ref }, role });
      byMessage.set(key, nodeId);
      return { kind: 'linked', node };
    },
    branch: (rootId) => branchOf(rootId, nodes.values()),
    remove(ids) {
      const removed: NodeSnapshot[] = [];
      for (const id of ids) {
        const node = nodes.get(id);
        if (node === undefined) continue;
        nodes.delete(id);
        for (const message of node.messages) {
          const key = messageKey(message.ref);
          if (byMessage.get(key) === id) byMessage.delete(key);
        }
        removed.push(node);
      }
      return removed;
    },
    totals: () => totalsOf(nodes.values()),
  };
}

function branchOf(rootId: string, nodes: Iterable<NodeSnapshot>): string[] {
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

function totalsOf(nodes: Iterable<NodeSnapshot>): Totals {
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
