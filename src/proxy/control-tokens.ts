// Strips chat-template control tokens some models leak into their prose (`<|im_end|>`, `<|tool_call_end|>`,
// `<|channel|>` …), whatever the chunking. Pure. Text inside code — a fenced block or an inline `span` — is left
// alone: an answer that explains a template, or a file it quotes, keeps every token. A tail that could still
// become a token or a fence is held back, at most one token long; at the end of the stream it is released as it was.

/** `<|`, 1–80 characters without `|`, `<`, `>`, then `|>`: the shape of every template token seen in the wild. */
const TOKEN_AT = /<\|[^|<>\n]{1,80}\|>/y;
/** What could still grow into a token once more text arrives. */
const TOKEN_START = /^<(\|[^|<>\n]{0,80}\|?)?$/;

export interface ControlTokenFilter {
  feed(chunk: string): string;
  flush(): string;
}

export function createControlTokenFilter(): ControlTokenFilter {
  let held = '';
  let fence = false; // inside a ``` block
  let inline = false; // inside a `span` on this line
  let lineStart = true; // only spaces so far on this line (a fence opens only there)

  function scan(raw: string): string {
    let out = '';
    let i = 0;
    while (i < raw.length) {
      const c = raw[i];
      if (c === '\n') {
        lineStart = true;
        inline = false;
        out += c;
        i++;
      } else if (c === '`') {
        let end = i;
        while (raw[end] === '`') end++;
        if (end === raw.length) {
          held = raw.slice(i); // the run may go on in the next chunk
          return out;
        }
        if (lineStart && end - i >= 3 && !inline) fence = !fence;
        else if (!fence) inline = !inline;
        out += raw.slice(i, end);
        lineStart = false;
        i = end;
      } else if (c === '<' && !fence && !inline) {
        TOKEN_AT.lastIndex = i;
        const token = TOKEN_AT.exec(raw);
        if (token) {
          i += token[0].length;
        } else if (TOKEN_START.test(raw.slice(i, i + 84)) && raw.length - i <= 84) {
          held = raw.slice(i);
          return out;
        } else {
          out += c;
          lineStart = false;
          i++;
        }
      } else {
        out += c;
        if (c !== ' ' && c !== '\t') lineStart = false;
        i++;
      }
    }
    return out;
  }

  return {
    feed(chunk) {
      const raw = held + chunk;
      held = '';
      // Most chunks carry neither '<' nor '`': only the line state can change.
      if (!raw.includes('<') && !raw.includes('`')) {
        const lastBreak = raw.lastIndexOf('\n');
        if (lastBreak !== -1) inline = false;
        const tail = lastBreak === -1 ? raw : raw.slice(lastBreak + 1);
        if (lastBreak !== -1) lineStart = true;
        if (tail.trim() !== '') lineStart = false;
        return raw;
      }
      return scan(raw);
    },
    flush() {
      const rest = held;
      held = '';
      return rest;
    },
  };
}
