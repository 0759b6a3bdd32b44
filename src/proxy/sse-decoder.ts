// Incremental `text/event-stream` decoder: string chunks in, `{event, data}` messages out. Pure, no I/O.
// Chunk-boundary hazards are handled explicitly: partial lines are kept as one pending fragment, and a `\r`
// at the end of a chunk is held until the next chunk shows whether a `\n` follows.

export interface SseMessage {
  event: string | undefined;
  data: string;
}

export interface SseDecoderOptions {
  onMessage(message: SseMessage): void;
  /** A line longer than this is a protocol error (reported once; the decoder then refuses input). */
  maxLineLength?: number;
  onError?(error: { kind: 'line_too_long'; length: number }): void;
  /** A line that is no SSE field we know (ignored as the spec says, but a caller may count it). */
  onUnknownLine?(line: string): void;
}

export interface SseDecoder {
  feed(chunk: string): void;
  /** Ends the stream: a final message without its blank line is still delivered. */
  flush(): void;
}

export function createSseDecoder(options: SseDecoderOptions): SseDecoder {
  const maxLine = options.maxLineLength ?? 16 * 1024 * 1024;
  let pending = ''; // the unfinished line so far
  let skipLeadingLf = false; // the previous chunk ended in '\r': a '\n' opening this chunk belongs to it
  let failed = false;
  let event: string | undefined;
  let data: string[] = [];

  function dispatch(): void {
    if (data.length > 0) options.onMessage({ event, data: data.join('\n') });
    event = undefined;
    data = [];
  }

  function line(text: string): void {
    if (text === '') {
      dispatch();
      return;
    }
    if (text.startsWith(':')) return; // comment / keep-alive
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field !== 'id' && field !== 'retry') options.onUnknownLine?.(text);
  }

  return {
    feed(chunk) {
      if (failed || chunk === '') return;
      let start = 0;
      if (skipLeadingLf && chunk.startsWith('\n')) start = 1;
      skipLeadingLf = false;
      // Line ends found with native searches (much faster than a loop over every character); each search
      // is repeated only once the line end it found has been passed, so a chunk is scanned about once.
      let lf = chunk.indexOf('\n', start);
      let cr = chunk.indexOf('\r', start);
      while (lf !== -1 || cr !== -1) {
        const isCr = cr !== -1 && (lf === -1 || cr < lf);
        const at = isCr ? cr : lf;
        line(pending + chunk.slice(start, at));
        pending = '';
        start = at + 1;
        if (isCr) {
          if (start === chunk.length) skipLeadingLf = true;
          else if (chunk.charCodeAt(start) === 10) start++;
        }
        if (lf !== -1 && lf < start) lf = chunk.indexOf('\n', start);
        if (cr !== -1 && cr < start) cr = chunk.indexOf('\r', start);
      }
      pending += chunk.slice(start);
      if (pending.length > maxLine) {
        failed = true;
        options.onError?.({ kind: 'line_too_long', length: pending.length });
      }
    },
    flush() {
      if (failed) return;
      if (pending !== '') line(pending);
      pending = '';
      dispatch();
    },
  };
}
