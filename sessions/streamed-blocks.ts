import type { CliEvent } from './cli-events.js';
import type { ProgressEvent } from './types.js';

// The main agent's text and thinking, shown once. With --include-partial-messages they arrive as stream deltas
// AND again as complete `assistant` blocks (same message id, the block printed before its content_block_stop):
// the deltas are shown as they come, and a complete block only adds what the deltas missed (nothing, normally).
// Sub-agents have no stream events.

type BlockType = 'text' | 'thinking';

interface StreamedBlock {
  type: BlockType;
  text: string;
  /** A complete block has already been matched against it. */
  consumed: boolean;
}

export interface StreamedBlocks {
  /** A stream event's text or thinking delta, remembered so the complete block does not repeat it. */
  fromStream(event: Extract<CliEvent, { kind: 'stream' }>): ProgressEvent[];
  /** The part of a complete text/thinking block the deltas have not shown yet. */
  unseenPart(messageId: string, type: BlockType, text: string): string;
}

/** Only the current and previous messages are ever completed, so a few are kept. */
const KEPT_MESSAGES = 8;

export function createStreamedBlocks(): StreamedBlocks {
  /** Message id → its streamed blocks by index. */
  const streamed = new Map<string, Map<number, StreamedBlock>>();
  let currentMessage: string | null = null;

  const blocksOf = (messageId: string): Map<number, StreamedBlock> => {
    let blocks = streamed.get(messageId);
    if (blocks === undefined) {
      blocks = new Map();
      streamed.set(messageId, blocks);
      if (streamed.size > KEPT_MESSAGES) {
        const oldest = streamed.keys().next().value;
        if (oldest !== undefined) streamed.delete(oldest);
      }
    }
    return blocks;
  };

  return {
    fromStream(event) {
      if (event.parentToolUseId !== null) return [];
      const delta = event.delta;
      if (delta.type === 'message_start') {
        currentMessage = delta.messageId;
        return [];
      }
      if (delta.type !== 'text_delta' && delta.type !== 'thinking_delta') return [];
      const messageId = event.messageId ?? currentMessage;
      if (messageId === null || delta.text === '') return [];
      const kind = delta.type === 'text_delta' ? 'text' : 'thinking';
      const blocks = blocksOf(messageId);
      const block = blocks.get(delta.index) ?? { type: kind, text: '', consumed: false };
      block.text += delta.text;
      blocks.set(delta.index, block);
      return [{ type: kind, text: delta.text }];
    },
    unseenPart(messageId, type, text) {
      const blocks = streamed.get(messageId);
      if (blocks === undefined) return text;
      const indices = [...blocks.keys()].sort((a, b) => a - b);
      for (const index of indices) {
        const block = blocks.get(index);
        if (block === undefined || block.consumed || block.type !== type) continue;
        block.consumed = true;
        return text.startsWith(block.text) ? text.slice(block.text.length) : '';
      }
      return text;
    },
  };
}
