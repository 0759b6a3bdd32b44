import { isRecord, type Json, records, str } from './anthropic-types.js';

// Token counting for `count_tokens` with a real BPE tokenizer (o200k via gpt-tokenizer), loaded lazily so
// neither start-up nor the streaming hot path pays for it. Providers' own tokenizers differ; this is an
// honest estimate, not characters ÷ 4.

type Counter = (text: string) => number;

export function createTokenCounter(): { count(request: Json): Promise<number> } {
  let counter: Promise<Counter> | undefined;
  const load = () => {
    counter ??= import('gpt-tokenizer').then((module) => (text: string) => module.countTokens(text));
    return counter;
  };
  return {
    async count(request) {
      const count = await load();
      let total = 0;
      const system = request.system;
      if (typeof system === 'string') total += count(system);
      else for (const block of records(system)) total += count(str(block.text) ?? '');
      for (const message of records(request.messages)) {
        total += 4;
        const content = message.content;
        if (typeof content === 'string') total += count(content);
        else for (const block of records(content)) total += countBlock(block, count);
      }
      for (const tool of records(request.tools)) {
        total +=
          5 +
          count(
            `${str(tool.name) ?? ''}\n${str(tool.description) ?? ''}\n${JSON.stringify(tool.input_schema ?? {})}`,
          );
      }
      return Math.max(1, total);
    },
  };
}

function countBlock(block: Json, count: Counter): number {
  switch (block.type) {
    case 'text':
      return count(str(block.text) ?? '');
    case 'thinking':
      return count(str(block.thinking) ?? '');
    case 'tool_use':
      return 15 + count(`${str(block.name) ?? ''}${JSON.stringify(block.input ?? {})}`);
    case 'tool_result': {
      const content = block.content;
      if (typeof content === 'string') return 8 + count(content);
      return 8 + records(content).reduce((sum, item) => sum + countBlock(item, count), 0);
    }
    case 'image':
      return 1600; // Anthropic bills images by pixels; without decoding, a typical screenshot's cost
    default:
      return isRecord(block) ? count(JSON.stringify(block)) : 0;
  }
}

/** A cheap size estimate for `message_start` (no tokenizing on the hot path): bytes ÷ 4. */
export function roughTokens(bytes: number): number {
  return Math.max(1, Math.round(bytes / 4));
}
