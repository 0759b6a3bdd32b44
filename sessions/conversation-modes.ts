import { snapshotOf } from './node-model.js';
import type { RunLifecycle } from './run-lifecycle.js';
import type { ConversationTree } from './tree.js';
import type { SessionEngine } from './types.js';

// What a user decides for a conversation while it runs or before it continues: the answers to its permission
// prompts, questions and plans, and its `/mode`. Each change to a node's mode is stored before it is reported.

export function createConversationModes(options: {
  tree: ConversationTree;
  runs: Pick<RunLifecycle, 'answerPermission' | 'answerQuestion' | 'persist'>;
}): Pick<SessionEngine, 'answerPermission' | 'answerQuestion' | 'setPermissionMode'> {
  const { tree, runs } = options;
  return {
    async answerPermission(nodeId, requestId, decision) {
      return runs.answerPermission(nodeId, requestId, decision);
    },

    async answerQuestion(nodeId, requestId, answer) {
      const answered = runs.answerQuestion(nodeId, requestId, answer);
      const node = tree.get(nodeId);
      // The CLI left plan mode: what continues this conversation asks as the relay does (CLAUDE_PERMISSIONS).
      if (answered && answer.kind === 'approve_plan' && node?.run?.permissionMode === 'plan') {
        const { permissionMode: _plan, ...rest } = node.run;
        node.run = rest;
        await runs.persist(node);
      }
      return answered;
    },

    async setPermissionMode(ref, mode) {
      const node = tree.findByRef(ref);
      if (node === undefined) return undefined;
      node.run = { ...node.run, permissionMode: mode };
      await runs.persist(node);
      return snapshotOf(node);
    },
  };
}
