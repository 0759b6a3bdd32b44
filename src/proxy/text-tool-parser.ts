import { isRecord } from './anthropic-types.js';

// Recognises tool calls that models print as text instead of using native tool calls, whatever the chunking:
//   <function=Write><parameter=file_path>a.txt</parameter>…</function>   (Qwen3-Coder; free-claude-code's
//                                                                         `● <function=…>` variant too)
//   <tool_call>{"name":"Write","arguments":{…}}</tool_call>              (Hermes / Qwen2.5)
//   <tool_call><function=Write>…</function></tool_call>                  (Qwen3-Coder inside the wrapper)
// Pure. Ordinary text is never eaten: a block that does not parse is given back as text.

export interface TextToolCall {
  name: string;
  input: Record<string, unknown>;
}

export interface TextToolResult {
  text: string;
  tools: TextToolCall[];
}

export interface TextToolParser {
  feed(chunk: string): TextToolResult;
  flush(): TextToolResult;
}

const FUNCTION = '<function=';
const WRAPPER = '<tool_call>';
const WRAPPER_END = '</tool_call>';
const FUNCTION_END = '</function>';
const MARKERS = [FUNCTION, WRAPPER] as const;
const BULLET = /●\s*$/; // free-claude-code's models put a bullet before the call; it belongs to the call

function heldTail(text: string): number {
  let hold = 0;
  const longest = Math.max(...MARKERS.map((m) => m.length));
  for (let i = Math.max(0, text.length - longest + 1); i < text.length; i++) {
    const tail = text.slice(i);
    if (MARKERS.some((m) => m.length > tail.length && m.startsWith(tail))) {
      hold = text.length - i;
      break;
    }
  }
  // A bullet right before a (possible) call belongs to the call: hold it too.
  const bullet = BULLET.exec(text.slice(0, text.length - hold));
  return bullet ? text.length - bullet.index : hold;
}

function trimValue(value: string): string {
  return value.replace(/^\r?\n/, '').replace(/\r?\n$/, '');
}

/** Parses `<function=Name>…` (optionally unterminated at end of stream when `lenient`). */
function parseFunction(block: string, lenient: boolean): TextToolCall | null {
  const head = /^<function=([^>\n]+)>/.exec(block);
  if (!head?.[1]) return null;
  const name = head[1].trim();
  if (name === '') return null;
  const input: Record<string, unknown> = {};
  const param = /<parameter=([^>\n]+)>([\s\S]*?)<\/parameter>/g;
  let rest = block.slice(head[0].length);
  let last = 0;
  for (let match = param.exec(rest); match; match = param.exec(rest)) {
    input[(match[1] ?? '').trim()] = trimValue(match[2] ?? '');
    last = param.lastIndex;
  }
  rest = rest.slice(last);
  if (lenient) {
    const open = /<parameter=([^>\n]+)>([\s\S]*)$/.exec(rest);
    if (open) input[(open[1] ?? '').trim()] = trimValue((open[2] ?? '').replace(/<\/function>[\s\S]*$/, ''));
  }
  // A bare `<function=x>` in prose is not a call: a call has parameters or its closing tag.
  if (Object.keys(input).length === 0 && !block.includes(FUNCTION_END)) return null;
  return { name, input };
}

function parseWrapped(inner: string): TextToolCall | null {
  const body = inner.trim();
  if (body.startsWith(FUNCTION)) return parseFunction(body, true);
  try {
    const value: unknown = JSON.parse(body);
    if (!isRecord(value) || typeof value.name !== 'string' || value.name === '') return null;
    const args = value.arguments ?? value.parameters ?? {};
    const input: unknown = typeof args === 'string' ? JSON.parse(args) : args;
    return isRecord(input) ? { name: value.name, input } : null;
  } catch {
    return null;
  }
}

/**
 * Where a `<function=` block ends if it is complete: at `</function>`, or, for the free-claude-code form that
 * has no closer, where ordinary text follows the last complete parameter. -1 while more input is needed.
 */
function functionEnd(buffer: string): number {
  const close = buffer.indexOf(FUNCTION_END);
  const header = buffer.indexOf('>');
  if (header === -1) return -1;
  let cursor = header + 1;
  const param = /<parameter=[^>\n]+>[\s\S]*?<\/parameter>/g;
  param.lastIndex = cursor;
  for (let match = param.exec(buffer); match && match.index < (close === -1 ? Infinity : close); ) {
    if (buffer.slice(cursor, match.index).trim() !== '') break;
    cursor = param.lastIndex;
    match = param.exec(buffer);
  }
  if (close !== -1 && buffer.slice(cursor, close).trim() === '') return close + FUNCTION_END.length;
  const after = buffer.slice(cursor);
  const trimmed = after.trimStart();
  if (trimmed !== '' && !trimmed.startsWith('<') && !'</function>'.startsWith(trimmed)) {
    return cursor + (after.length - trimmed.length);
  }
  return close === -1 ? -1 : close + FUNCTION_END.length;
}

export function createTextToolParser(): TextToolParser {
  let buffer = '';

  function drain(final: boolean): TextToolResult {
    const out: TextToolResult = { text: '', tools: [] };
    for (;;) {
      const starts = MARKERS.map((m) => buffer.indexOf(m)).filter((i) => i !== -1);
      if (starts.length === 0) {
        const hold = final ? 0 : heldTail(buffer);
        out.text += buffer.slice(0, buffer.length - hold);
        buffer = buffer.slice(buffer.length - hold);
        return out;
      }
      const start = Math.min(...starts);
      out.text += buffer.slice(0, start).replace(BULLET, '');
      buffer = buffer.slice(start);
      let end: number;
      let call: TextToolCall | null;
      if (buffer.startsWith(WRAPPER)) {
        const close = buffer.indexOf(WRAPPER_END);
        end = close === -1 ? -1 : close + WRAPPER_END.length;
        if (end === -1 && final) end = buffer.length;
        call =
          end === -1 ? null : parseWrapped(buffer.slice(WRAPPER.length, close === -1 ? undefined : close));
      } else {
        end = functionEnd(buffer);
        if (end === -1 && final) end = buffer.length;
        call = end === -1 ? null : parseFunction(buffer.slice(0, end), final);
      }
      if (end === -1) return out; // wait for the rest of the block
      if (call) out.tools.push(call);
      else out.text += buffer.slice(0, end); // not a call after all: give the text back
      buffer = buffer.slice(end);
    }
  }

  return {
    feed(chunk) {
      buffer += chunk;
      // Every marker starts with '<' and a held bullet is '●': text with neither holds no call and no tail
      // to keep back (most chunks), so it skips the marker search.
      if (!buffer.includes('<') && !buffer.includes('●')) {
        const text = buffer;
        buffer = '';
        return { text, tools: [] };
      }
      return drain(false);
    },
    flush() {
      return drain(true);
    },
  };
}
