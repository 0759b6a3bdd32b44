import type { Target } from '../../sessions/index.js';
import { plural } from '../../src/common/index.js';
import type { CommandContext } from './spec.js';

// /stop and /clear: alone they act on everything, as a reply on the task (or transcription) replied to.

function targetOf(context: CommandContext, replyTo: string | null): Target {
  return replyTo === null ? { kind: 'all' } : { kind: 'message', ref: context.ref(replyTo) };
}

/** A reply to a message no task owns: answered rather than widened to everything. */
function isUnknownTask(context: CommandContext, replyTo: string | null): boolean {
  return replyTo !== null && !context.engine.findNodeByMessage(context.ref(replyTo));
}

export async function stopTasks(context: CommandContext, replyTo: string | null): Promise<void> {
  const voices = context.cancelTranscriptions(replyTo, { discard: false });
  if (replyTo !== null && voices > 0) return context.answer('⏹ Stopped the transcription.');
  if (isUnknownTask(context, replyTo)) {
    return context.answer('That message is not part of a task I know, so there is nothing to stop.');
  }
  const { stopped } = await context.engine.stop(targetOf(context, replyTo));
  const what = stopped.length === 0 ? 'Nothing was running' : `⏹ Stopped ${plural(stopped.length, 'task')}`;
  const extra = voices > 0 ? ` and ${plural(voices, 'transcription')}` : '';
  return context.answer(`${what}${extra}.`);
}

export async function clearTasks(context: CommandContext, replyTo: string | null): Promise<void> {
  const voices = context.cancelTranscriptions(replyTo, { discard: true });
  if (replyTo !== null && voices > 0) return context.answer('🧹 Cancelled that transcription.');
  if (isUnknownTask(context, replyTo)) {
    return context.answer('That message is not part of a conversation I know, so nothing was cleared.');
  }
  const { removed } = await context.engine.clear(targetOf(context, replyTo));
  context.forgetTasks(removed.map((node) => node.id));
  const trees = new Set(removed.map((node) => node.treeId)).size;
  const scope =
    replyTo === null
      ? `🧹 Cleared everything: ${plural(removed.length, 'task')} in ${plural(trees, 'conversation')}`
      : `🧹 Cleared that branch: ${plural(removed.length, 'task')}`;
  const deletable = removed.reduce(
    (sum, node) => sum + node.messages.filter((m) => m.role !== 'prompt').length,
    0,
  );
  await context.answer(`${scope}; deleting ${plural(deletable, 'message')} of mine.`);
  context.deleteBotMessages(removed);
}
