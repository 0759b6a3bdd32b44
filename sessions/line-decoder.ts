// Splits a byte stream (the CLI's stdout) into lines. Pure: no I/O, state in closure variables.
// Hazards handled: a line cut across chunks (kept as fragments, joined once so long lines cost O(n), not O(n²)),
// a UTF-8 character cut across chunks (TextDecoder in stream mode), CRLF endings (the \r is dropped wherever the
// \n lands), and a line longer than the cap (discarded up to its newline and counted, never buffered without end).

export interface LineDecoder {
  /** Returns the complete lines this chunk finished, without their line endings. */
  feed(chunk: Uint8Array | string): string[];
  /** Returns the last line if the stream ended without a newline. */
  flush(): string[];
  /** How many over-long lines were dropped so far. */
  dropped(): number;
}

export function createLineDecoder(options: { maxLineLength?: number } = {}): LineDecoder {
  const maxLineLength = options.maxLineLength ?? 64 * 1024 * 1024;
  const text = new TextDecoder('utf-8');
  let fragments: string[] = [];
  let pendingLength = 0;
  // Set while skipping the rest of an over-long line, until its newline arrives.
  let discarding = false;
  let droppedLines = 0;

  const finishLine = (tail: string, out: string[]): void => {
    if (discarding) {
      discarding = false;
      return;
    }
    fragments.push(tail);
    let line = fragments.length === 1 ? tail : fragments.join('');
    fragments = [];
    pendingLength = 0;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    out.push(line);
  };

  const keepFragment = (fragment: string): void => {
    if (discarding || fragment === '') return;
    pendingLength += fragment.length;
    if (pendingLength > maxLineLength) {
      fragments = [];
      pendingLength = 0;
      discarding = true;
      droppedLines += 1;
      return;
    }
    fragments.push(fragment);
  };

  const split = (decoded: string): string[] => {
    const out: string[] = [];
    let start = 0;
    for (let at = decoded.indexOf('\n'); at !== -1; at = decoded.indexOf('\n', start)) {
      finishLine(decoded.slice(start, at), out);
      start = at + 1;
    }
    keepFragment(decoded.slice(start));
    return out;
  };

  return {
    feed(chunk) {
      return split(typeof chunk === 'string' ? chunk : text.decode(chunk, { stream: true }));
    },
    flush() {
      const out = split(text.decode());
      if (!discarding && fragments.length > 0) finishLine('', out);
      fragments = [];
      pendingLength = 0;
      discarding = false;
      return out;
    },
    dropped: () => droppedLines,
  };
}
