import type { Logger } from '../src/log.js';
import { type CliProcessRecord, endLeftovers } from './leftover-processes.js';
import { snapshotOf } from './node-model.js';
import type { NodeStore } from './store.js';
import type { ConversationTree } from './tree.js';
import type { NodeSnapshot } from './types.js';

// What a start does with the stored nodes. All go back into the tree, oldest first. One the store says is
// running was left so by a relay that died without stopping it (kill -9, OOM), so its CLI may still be at work in
// the workspace: that CLI is ended first, then the node is marked interrupted with a reason that says what
// happened and how to continue. A queued chat task waits again; a queued API request is interrupted, since the
// client that asked for it is gone with the old process.

/** Loads the store into the tree; returns the nodes it found interrupted. */
export async function restoreNodes(
  store: NodeStore,
  into: { tree: ConversationTree; requeue(node: NodeSnapshot): void; logger: Logger },
): Promise<NodeSnapshot[]> {
  const { tree, logger } = into;
  const { nodes: loaded, processes: recorded, unreadable } = await store.load();
  loaded.sort((a, b) => a.createdAt - b.createdAt);
  for (const node of loaded) tree.add(node);
  const interrupted: NodeSnapshot[] = [];
  let requeued = 0;
  for (const node of loaded) {
    if (node.state === 'running') {
      await interruptLeftRunning(node, recorded.get(node.id) ?? null, logger);
      // Strict here: a store that cannot record this must fail the start, not hide the interruption.
      await store.save(snapshotOf(node), null);
      interrupted.push(snapshotOf(node));
    } else if (node.state === 'queued' && node.priority !== undefined && node.priority !== 'chat') {
      // An API request: its client's connection died with the old process, so nobody would read the answer.
      node.state = 'interrupted';
      node.queuePosition = null;
      node.finishedAt = Date.now();
      node.outcome = {
        kind: 'interrupted',
        reason: 'The relay restarted before this API request could run.',
      };
      await store.save(snapshotOf(node), null);
    } else if (node.state === 'queued') {
      node.queuePosition = null;
      into.requeue(node);
      requeued += 1;
    }
  }
  logger.info(
    { nodes: loaded.length, requeued, interrupted: interrupted.length, unreadable },
    'session store loaded',
  );
  return interrupted;
}

async function interruptLeftRunning(
  node: NodeSnapshot,
  record: CliProcessRecord | null,
  logger: Logger,
): Promise<void> {
  const left = await endLeftovers(node.id, record);
  if (left.ended > 0 || left.remaining > 0) {
    logger.warn({ nodeId: node.id, ...left }, 'ended the CLI a previous relay process left running');
  }
  const note =
    left.remaining > 0
      ? ' Its Claude process could not be stopped and may still be running.'
      : left.ended > 0
        ? ' Its Claude process, still running, was stopped.'
        : '';
  node.state = 'interrupted';
  node.queuePosition = null;
  node.finishedAt = Date.now();
  node.outcome = {
    kind: 'interrupted',
    reason: `The relay restarted while this task was running.${note} Reply to it to continue from there.`,
  };
}
