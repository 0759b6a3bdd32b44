import { describe, expect, it } from 'vitest';
import { isForkable, newNode } from '../../sessions/node-model.js';
import { createConversationTree } from '../../sessions/tree.js';
import type { MessageRef, NodeSnapshot, NodeState } from '../../sessions/types.js';

const ref = (messageId: string): MessageRef => ({ platform: 'test', chatId: 'c', messageId });

function node(id: string, parent: NodeSnapshot | undefined = undefined): NodeSnapshot {
  return newNode({
    id,
    task: { prompt: `task ${id}`, origin: ref(`prompt-${id}`), replyTo: null },
    parent,
    workspace: '/ws',
    now: 1000,
    queuePosition: 1,
  });
}

/** root ─┬─ a ── a1
 *        └─ b        other (a second tree) */
function sample() {
  const tree = createConversationTree();
  const root = node('root');
  const a = node('a', root);
  const a1 = node('a1', a);
  const b = node('b', root);
  const other = node('other');
  for (const item of [root, a, a1, b, other]) tree.add(item);
  return { tree, root, a, a1, b, other };
}

describe('new nodes', () => {
  it('a root starts its own tree in the workspace; a reply joins its parent’s tree and directory', () => {
    const root = node('root');
    expect(root).toMatchObject({ treeId: 'root', parentId: null, workingDirectory: '/ws', state: 'queued' });
    const reply = node('reply', { ...root, workingDirectory: '/ws/project' });
    expect(reply).toMatchObject({ treeId: 'root', parentId: 'root', workingDirectory: '/ws/project' });
    expect(reply.messages).toEqual([{ ref: ref('prompt-reply'), role: 'prompt' }]);
  });

  it('a parent can be forked while it may still get a session, or once it has one', () => {
    const parent = node('p');
    expect(isForkable(parent)).toBe(true);
    expect(isForkable({ ...parent, state: 'error' })).toBe(false);
    expect(isForkable({ ...parent, state: 'done', sessionId: 's-1' })).toBe(true);
  });
});

describe('conversation tree', () => {
  it('finds a node by any of its messages; a message keeps the node that had it first', () => {
    const { tree, a } = sample();
    expect(tree.findByRef(ref('prompt-a'))?.id).toBe('a');
    const copycat = { ...node('copycat'), messages: [{ ref: ref('prompt-a'), role: 'prompt' as const }] };
    tree.add(copycat);
    expect(tree.findByRef(ref('prompt-a'))).toBe(a);
    expect(tree.findByRef(ref('nobody'))).toBeUndefined();
    expect(tree.size).toBe(6);
  });

  it('links a bot message to a node once; another node’s message stays where it is', () => {
    const { tree, a } = sample();
    expect(tree.link('a', ref('status-a'), 'status')).toEqual({ kind: 'linked', node: a });
    expect(tree.findByRef(ref('status-a'))).toBe(a);
    expect(a.messages.map((message) => message.role)).toEqual(['prompt', 'status']);
    expect(tree.link('a', ref('status-a'), 'status')).toEqual({ kind: 'owned', owner: 'a' });
    expect(tree.link('b', ref('status-a'), 'continuation')).toEqual({ kind: 'owned', owner: 'a' });
    expect(a.messages).toHaveLength(2);
    expect(() => tree.link('missing', ref('x'), 'status')).toThrow(/no node missing/);
  });

  it('knows parents, and selects every node or the one owning a message', () => {
    const { tree, root, a } = sample();
    expect(tree.parentOf(a)).toBe(root);
    expect(tree.parentOf(root)).toBeUndefined();
    expect(tree.select({ kind: 'all' })).toHaveLength(5);
    expect(tree.select({ kind: 'message', ref: ref('prompt-a') })).toEqual([a]);
    expect(tree.select({ kind: 'message', ref: ref('nobody') })).toEqual([]);
  });

  it('a branch is the node and everything below it, parents first; never its parent, siblings or other trees', () => {
    const { tree } = sample();
    expect(tree.branch('root')).toEqual(['root', 'a', 'b', 'a1']);
    expect(tree.branch('a')).toEqual(['a', 'a1']);
    expect(tree.branch('a1')).toEqual(['a1']);
  });

  it('removing nodes takes their messages with them and leaves the rest', () => {
    const { tree, b } = sample();
    tree.link('a', ref('status-a'), 'status');
    const removed = tree.remove(['a', 'a1', 'unknown']);
    expect(removed.map((item) => item.id)).toEqual(['a', 'a1']);
    expect(tree.has('a')).toBe(false);
    expect(tree.findByRef(ref('prompt-a'))).toBeUndefined();
    expect(tree.findByRef(ref('status-a'))).toBeUndefined();
    expect(tree.findByRef(ref('prompt-b'))).toBe(b);
    expect(tree.branch('root')).toEqual(['root', 'b']);
  });

  it('totals count states and trees and sum usage and cost', () => {
    const { tree, root, a } = sample();
    const finish = (item: NodeSnapshot, state: NodeState, costUsd: number): void => {
      item.state = state;
      item.costUsd = costUsd;
      item.usage = { inputTokens: 10, outputTokens: 5, cacheReadTokens: 2, cacheCreationTokens: 1 };
    };
    finish(root, 'done', 0.5);
    finish(a, 'error', 0.25);
    expect(tree.totals()).toEqual({
      byState: { queued: 3, running: 0, done: 1, error: 1, stopped: 0, interrupted: 0 },
      usage: { inputTokens: 20, outputTokens: 10, cacheReadTokens: 4, cacheCreationTokens: 2 },
      costUsd: 0.75,
      trees: 2,
    });
  });
});
