import type { NodeSnapshot, Outcome } from '../../sessions/index.js';
import { renderMarkdown } from '../render/index.js';
import { webHtml } from './dialect.js';
import { WEB_MAX_LENGTH } from './limits.js';

// The conversations as the tree panel draws them: one line per node (state, first words, time, where it came
// from) and, for a node clicked, its prompt and answer. Pure.

export interface NodeLine {
  id: string;
  parentId: string | null;
  treeId: string;
  state: NodeSnapshot['state'];
  /** The prompt's first words, on one line. */
  title: string;
  createdAt: number;
  /** The platform its prompt came from: `web`, `telegram`, `discord`, the gateway's … */
  origin: string;
  /** Its console messages (a node of another origin has none: it is shown read-only). */
  messageIds: string[];
}

export interface NodeDetail extends NodeLine {
  prompt: string;
  /** The answer (or what the run left, or why it ended) in the console's markup; null while it runs. */
  answerHtml: string | null;
}

const TITLE_LENGTH = 60;

export function nodeLine(node: NodeSnapshot): NodeLine {
  const oneLine = node.prompt.replace(/\s+/g, ' ').trim();
  return {
    id: node.id,
    parentId: node.parentId,
    treeId: node.treeId,
    state: node.state,
    title: oneLine.length > TITLE_LENGTH ? `${oneLine.slice(0, TITLE_LENGTH - 1)}…` : oneLine,
    createdAt: node.createdAt,
    origin: node.messages.find((message) => message.role === 'prompt')?.ref.platform ?? 'unknown',
    messageIds: node.messages.filter((m) => m.ref.platform === 'web').map((m) => m.ref.messageId),
  };
}

export function nodeDetail(node: NodeSnapshot): NodeDetail {
  const answer = node.outcome === null ? null : outcomeText(node.outcome);
  return {
    ...nodeLine(node),
    prompt: node.prompt,
    answerHtml:
      answer === null
        ? null
        : renderMarkdown(answer, { dialect: webHtml, maxLength: WEB_MAX_LENGTH })
            .map((part) => part.formatted)
            .join('\n'),
  };
}

function outcomeText(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'done':
      return outcome.text;
    case 'stopped':
      return `${outcome.partialText}\n\n_(stopped)_`;
    case 'timed_out':
      return `${outcome.partialText}\n\n_(stopped: no output for ${Math.round(outcome.idleMs / 1000)} s)_`;
    case 'error':
      return `⚠️ ${outcome.message}`;
    case 'crashed':
      return `⚠️ Claude Code ended unexpectedly: ${outcome.detail}`;
    case 'interrupted':
      return `⚠️ interrupted: ${outcome.reason}`;
  }
}
