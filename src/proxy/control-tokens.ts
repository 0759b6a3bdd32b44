// Strips chat-template control tokens some models leak into text (`<|im_end|>`, `<|tool_call_end|>`,
// `<|channel|>` …), whatever the chunking. Pure. A tail that could still become a token is held back, at most one
// token long; at the end of the stream a held tail that never became one is released as it was.

/** `<|`, 1–80 characters without `|`, `<`, `>`, `|>`: the shape of every template token seen in the wild. */
const TOKEN = /<\|[^|<>\n]{1,80}\|>/g;
const LONGEST = 84;

export interface ControlTokenFilter {
  feed(chunk: string): string;
  flush(): string;
}

/** Where a suffix that could still grow into a token starts, or -1. */
function openTail(text: string): number {
  const from = Math.max(0, text.length - LONGEST + 1);
  const start = text.lastIndexOf('<', text.length - 1);
  if (start < from) return -1;
  const tail = text.slice(start);
  if (tail === '<') return start;
  return /^<\|[^|<>\n]{0,80}\|?$/.test(tail) ? start : -1;
}

export function createControlTokenFilter(): ControlTokenFilter {
  let held = '';
  return {
    feed(chunk) {
      // Most chunks carry no '<' and nothing is held: pass them through untouched.
      if (held === '' && !chunk.includes('<')) return chunk;
      const raw = held + chunk;
      // Tokens are found in the raw text (a held tail has none yet), so any cut gives the same result.
      const tail = openTail(raw);
      held = tail === -1 ? '' : raw.slice(tail);
      return (tail === -1 ? raw : raw.slice(0, tail)).replace(TOKEN, '');
    },
    flush() {
      const rest = held;
      held = '';
      return rest;
    },
  };
}
