import { type AnthropicEvent, isRecord } from './anthropic-types.js';
import { parseUpstreamChunk } from './openai-chunk.js';
import { createSseDecoder } from './sse-decoder.js';
import type { StreamTranslator } from './stream-translator.js';
import type { UpstreamBody, UpstreamResponse } from './upstream.js';

// Feeds a provider's answer, streamed or whole, through the SSE decoder into the translator and hands each
// batch of events to `emit`. It counts what it skipped and returns a broken answer as a value: the caller
// decides how the client hears of it (an error event mid-stream, or a failed JSON answer).

export interface PumpOutcome {
  /** Upstream lines or chunks that made no sense: skipped (the answer went on), for stats. */
  malformedChunks: number;
  /** Why the answer broke off, if it did; the translator has not been told. */
  failure: Error | undefined;
}

type Emit = (events: AnthropicEvent[]) => void;

/** TextDecoder options for every chunk but the last, made once rather than per chunk. */
const STREAMING = { stream: true };

export async function pumpChunks(
  upstream: UpstreamResponse,
  translator: StreamTranslator,
  emit: Emit,
): Promise<PumpOutcome> {
  const outcome: PumpOutcome = { malformedChunks: 0, failure: undefined };
  try {
    if (upstream.contentType.includes('application/json')) await pumpWhole(upstream.body, translator, emit);
    else await pumpStream(upstream.body, translator, emit, outcome);
  } catch (error) {
    outcome.failure = error instanceof Error ? error : new Error(String(error));
  }
  return outcome;
}

function hasChoicesOrError(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if ('choices' in value && Array.isArray(value.choices) && value.choices.length > 0) return true;
  return 'error' in value && typeof value.error === 'object' && value.error !== null;
}

/** Not a stream (the client or server chose JSON): one completion, same translation. */
async function pumpWhole(body: UpstreamBody, translator: StreamTranslator, emit: Emit): Promise<void> {
  const out: AnthropicEvent[] = [...translator.start()];
  let text = '';
  for await (const chunk of body) text += chunk.toString('utf8');
  const value: unknown = JSON.parse(text);
  // A completion with neither choices nor an error would become an empty answer the user cannot tell apart
  // from a model that said nothing: treat it as the provider failure it is.
  if (!hasChoicesOrError(value)) throw new Error('the provider answered without any choices');
  out.push(...translator.push(parseUpstreamChunk(value)), ...translator.end());
  emit(out);
}

async function pumpStream(
  body: UpstreamBody,
  translator: StreamTranslator,
  emit: Emit,
  counts: { malformedChunks: number },
): Promise<void> {
  const out: AnthropicEvent[] = [...translator.start()];
  emit(out.splice(0)); // message_start goes out as soon as the provider has accepted the request
  let done = false;
  let finished = false;
  /** Whether any chunk carried a choice: a stream without one (junk, or nothing) is a failure, not an empty answer. */
  let usable = false;
  const decoder = createSseDecoder({
    onUnknownLine: () => counts.malformedChunks++,
    onMessage({ data }) {
      if (done) return;
      if (data === '[DONE]') {
        done = true;
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(data);
      } catch {
        counts.malformedChunks++; // junk in a data line: skipped (the stream goes on), counted, visible in stats
        return;
      }
      if (isRecord(value) && isRecord(value.error) && !Array.isArray(value.choices)) {
        const message = typeof value.error.message === 'string' ? value.error.message : 'provider error';
        out.push(...translator.fail('overloaded_error', `provider error mid-stream: ${message}`));
        done = true;
        return;
      }
      // A chunk with neither choices nor usage carries nothing; OpenAI's own usage chunk has `choices: []`.
      if (!isRecord(value) || (!Array.isArray(value.choices) && value.usage === undefined))
        counts.malformedChunks++;
      else if (Array.isArray(value.choices) && value.choices.length > 0) usable = true;
      const delta = parseUpstreamChunk(value);
      if (delta.finishReason) finished = true;
      out.push(...translator.push(delta));
    },
  });
  const text = new TextDecoder();
  for await (const chunk of body) {
    decoder.feed(text.decode(chunk, STREAMING));
    if (out.length > 0) emit(out.splice(0));
    if (translator.ended) break;
  }
  decoder.feed(text.decode());
  decoder.flush();
  if (!done && !finished && !translator.ended)
    throw new Error('the provider closed the stream before finishing');
  if (!usable && !translator.ended) throw new Error('the provider sent no completion chunk');
  out.push(...translator.end());
  emit(out);
}
