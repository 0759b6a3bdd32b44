import type { NodeSnapshot, NodeState } from '../sessions/index.js';
import type { ChatContext } from './chat-context.js';
import { createTaskView, type TaskView } from './render/index.js';

// One task the tracker follows in chat: its status message and what was last rendered into it.

export interface TrackedTask {
  nodeId: string;
  chat: ChatContext;
  userMessageId: string;
  statusId: string | null;
  view: TaskView;
  state: NodeState;
  lastRendered: string | null;
  finished: boolean;
  /** The status message was deleted (by the user): progress edits stop, the answer goes out as a new message. */
  statusGone: boolean;
}

/** A task as first followed: no status message yet, nothing rendered. */
export function newTrackedTask(
  node: NodeSnapshot,
  chat: ChatContext,
  userMessageId: string,
  /** The task this one continues (forks), if any. */
  parent: NodeSnapshot | null = null,
): TrackedTask {
  return {
    nodeId: node.id,
    chat,
    userMessageId,
    statusId: null,
    view: { ...createTaskView(node), continues: parent?.prompt ?? null },
    state: node.state,
    lastRendered: null,
    finished: false,
    statusGone: false,
  };
}
