import type { Logger } from '../src/log.js';
import { type CliProcessRecord, endLeftovers } from './leftover-processes.js';
import type { NodeSnapshot } from './types.js';

// What a start does with a node the store says is running: the relay that ran it died without stopping it
// (kill -9, OOM), so its CLI may still be at work in the workspace. That CLI is ended first, then the node is
// marked interrupted with a reason that says what happened and how to continue.

export async function interruptLeftRunning(
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
