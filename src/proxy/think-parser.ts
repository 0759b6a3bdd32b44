// Splits streamed text into thinking and ordinary text at `<think>` / `</think>` tags, whatever the chunking.
// Pure. A tag cut across chunks is held back (only a tail that could still become a tag); an orphan closer
// outside a think section is dropped; an unclosed section ends as thinking at flush.

export type ThinkPiece = { kind: 'text' | 'thinking'; text: string };

export interface ThinkParser {
  feed(chunk: string): ThinkPiece[];
  flush(): ThinkPiece[];
}

const OPEN = '<think>';
const CLOSE = '</think>';

/** Length of the longest suffix of `text` that is a proper prefix of one of `tags`. */
function heldTail(text: string, tags: readonly string[]): number {
  const from = Math.max(0, text.length - Math.max(...tags.map((t) => t.length)) + 1);
  for (let i = from; i < text.length; i++) {
    if (text.charCodeAt(i) !== 60 /* < */) continue;
    const tail = text.slice(i);
    if (tags.some((tag) => tag.length > tail.length && tag.startsWith(tail))) return text.length - i;
  }
  return 0;
}

export function createThinkParser(): ThinkParser {
  let buffer = '';
  let inThink = false;

  function push(out: ThinkPiece[], kind: ThinkPiece['kind'], text: string): void {
    if (text === '') return;
    const last = out.at(-1);
    if (last?.kind === kind) last.text += text;
    else out.push({ kind, text });
  }

  function drain(out: ThinkPiece[]): void {
    for (;;) {
      if (inThink) {
        const close = buffer.indexOf(CLOSE);
        if (close === -1) {
          const hold = heldTail(buffer, [CLOSE]);
          push(out, 'thinking', buffer.slice(0, buffer.length - hold));
          buffer = buffer.slice(buffer.length - hold);
          return;
        }
        push(out, 'thinking', buffer.slice(0, close));
        buffer = buffer.slice(close + CLOSE.length);
        inThink = false;
        continue;
      }
      const open = buffer.indexOf(OPEN);
      const close = buffer.indexOf(CLOSE);
      if (close !== -1 && (open === -1 || close < open)) {
        push(out, 'text', buffer.slice(0, close)); // orphan closer (some models leak it): drop the tag only
        buffer = buffer.slice(close + CLOSE.length);
        continue;
      }
      if (open === -1) {
        const hold = heldTail(buffer, [OPEN, CLOSE]);
        push(out, 'text', buffer.slice(0, buffer.length - hold));
        buffer = buffer.slice(buffer.length - hold);
        return;
      }
      push(out, 'text', buffer.slice(0, open));
      buffer = buffer.slice(open + OPEN.length);
      inThink = true;
    }
  }

  return {
    feed(chunk) {
      buffer += chunk;
      const out: ThinkPiece[] = [];
      // Both tags start with '<': without one the whole buffer continues the current section (most chunks).
      if (!buffer.includes('<')) {
        push(out, inThink ? 'thinking' : 'text', buffer);
        buffer = '';
        return out;
      }
      drain(out);
      return out;
    },
    flush() {
      const out: ThinkPiece[] = [];
      push(out, inThink ? 'thinking' : 'text', buffer);
      buffer = '';
      return out;
    },
  };
}
