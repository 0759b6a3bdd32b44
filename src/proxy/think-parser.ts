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

  /** Emits the buffer up to `end` as `kind`, then drops it and the `skip` characters of a tag found there. */
  function take(out: ThinkPiece[], kind: ThinkPiece['kind'], end: number, skip = 0): void {
    push(out, kind, buffer.slice(0, end));
    buffer = buffer.slice(end + skip);
  }

  function drain(out: ThinkPiece[]): void {
    for (;;) {
      if (inThink) {
        const close = buffer.indexOf(CLOSE);
        if (close === -1) {
          take(out, 'thinking', buffer.length - heldTail(buffer, [CLOSE]));
          return;
        }
        take(out, 'thinking', close, CLOSE.length);
        inThink = false;
        continue;
      }
      const open = buffer.indexOf(OPEN);
      const close = buffer.indexOf(CLOSE);
      if (close !== -1 && (open === -1 || close < open)) {
        take(out, 'text', close, CLOSE.length); // orphan closer (some models leak it): drop the tag only
        continue;
      }
      if (open === -1) {
        take(out, 'text', buffer.length - heldTail(buffer, [OPEN, CLOSE]));
        return;
      }
      take(out, 'text', open, OPEN.length);
      inThink = true;
    }
  }

  return {
    feed(chunk) {
      buffer += chunk;
      const out: ThinkPiece[] = [];
      // Both tags start with '<': without one the whole buffer continues the current section (most chunks).
      if (buffer.includes('<')) drain(out);
      else take(out, inThink ? 'thinking' : 'text', buffer.length);
      return out;
    },
    flush() {
      const out: ThinkPiece[] = [];
      take(out, inThink ? 'thinking' : 'text', buffer.length);
      return out;
    },
  };
}
