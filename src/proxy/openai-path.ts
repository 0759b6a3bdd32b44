import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { AnthropicEvent, Json } from './anthropic-types.js';
import { pumpChunks } from './chunk-pump.js';
import { ProxyError } from './errors.js';
import type { ProviderExchange } from './exchange.js';
import { allowedOutput, type OutputCeiling, parseOutputCeiling } from './output-ceiling.js';
import { toOpenAiRequest } from './request-to-openai.js';
import { SSE_HEADERS, sendJson } from './responses.js';
import { createCoalescingWriter } from './sse-writer.js';
import type { ProviderCounters } from './stats.js';
import { reduceMessage } from './stream-contract.js';
import { createStreamTranslator, type StreamTranslator } from './stream-translator.js';
import { roughTokens } from './tokens.js';
import type { ToolsMemo } from './tools-memo.js';
import type { UpstreamResponse } from './upstream.js';

// A provider speaking OpenAI chat completions: convert the request, call it, translate the answer back, as SSE
// when the client streams, as one JSON message otherwise (folded from the very same events).

export interface OpenAiPathDeps {
  logger: Logger;
  /** Converts and encodes the CLI's repeated tools array once (see tools-memo.ts). */
  tools: ToolsMemo;
  newId(prefix: string): string;
  /** How long the client may hear nothing before a ping goes out. */
  pingIntervalMs: number;
}

/** Answers the request; resolves to the number of malformed tool calls in the answer, or null if it broke off. */
export async function viaOpenAiChat(
  request: Json,
  rawBytes: number,
  exchange: ProviderExchange,
  res: ServerResponse,
  deps: OpenAiPathDeps,
): Promise<number | null> {
  const { stats } = exchange;
  const stream = request.stream === true;
  const upstream = await sendRecovering(request, stream, exchange, deps);
  const translator = createStreamTranslator({
    messageId: deps.newId('msg'),
    model: exchange.answeredAs,
    inputTokens: roughTokens(rawBytes),
    newToolId: () => deps.newId('toolu'),
  });
  let failed = false;
  if (stream) failed = await streamOut(upstream, translator, res, exchange, deps);
  else {
    const events = await collect(upstream, translator, stats);
    const failure = events.find((e) => e.type === 'error');
    if (failure?.type === 'error') {
      stats.errors++; // counted like a broken stream, so /stats agrees whichever mode the CLI asked for
      throw new ProxyError('upstream_protocol', 529, failure.error.type, failure.error.message);
    }
    sendJson(res, 200, JSON.stringify(reduceMessage(events)));
  }
  if (translator.usage.input !== undefined) stats.inputTokens += translator.usage.input;
  else stats.inputTokens += roughTokens(rawBytes);
  stats.outputTokens += translator.usage.output ?? 0;
  // An answer cut short (an error event, the client gone) says nothing about the model's tool calls.
  return translator.ended && !failed ? translator.malformedToolCalls : null;
}

/**
 * The translated request sent, and sent again at once for a 400 the proxy can answer for, each kind of answer once:
 * its images, its max_tokens. A function of its own so that the translated body is garbage once the answer
 * begins: kept through the stream, 100 streams' bodies raised the peak by about 12 MB.
 */
async function sendRecovering(
  request: Json,
  stream: boolean,
  exchange: ProviderExchange,
  deps: OpenAiPathDeps,
): Promise<UpstreamResponse> {
  const { provider, model } = exchange;
  let images = exchange.seesImages;
  let maxImages: number | undefined;
  let ceiling = exchange.maxOutputTokens;
  const convert = () =>
    toOpenAiRequest(request, {
      provider,
      model,
      stream,
      fields: exchange.fields,
      userFields: exchange.userFields,
      images,
      ...(maxImages === undefined ? {} : { maxImages }),
      maxOutputTokens: ceiling,
      convertTools: deps.tools.convertTools,
    });
  let conversion = convert();
  if (conversion.repairs > 0)
    deps.logger.info({ repairs: conversion.repairs }, 'repaired orphan tool calls/results');
  let lowered = false;
  let upstream: UpstreamResponse | undefined;
  // The output ceiling first: a refusal of max_tokens may name a vision model ("…-vision-preview …").
  const lowerable = (error: unknown) =>
    lowered ? null : allowedByRefusal(error, conversion.body.max_tokens);
  /** What an image refusal asks for: no images at all, or fewer than this request has (once per request). */
  const imageAnswer = (error: unknown): 'none' | number | null => {
    if (conversion.images === 0 || lowerable(error) !== null) return null;
    const refusal = imageRefusal(error);
    if (refusal === 'none') return 'none';
    return refusal !== null && maxImages === undefined && refusal < conversion.images ? refusal : null;
  };
  const recoverable = (error: unknown) => lowerable(error) !== null || imageAnswer(error) !== null;
  while (upstream === undefined) {
    try {
      upstream = await exchange.send(deps.tools.serialize(conversion.body), recoverable);
    } catch (error) {
      const answer = imageAnswer(error);
      if (answer === 'none') {
        // Which models see is a fact of the model, not the provider, and no API says it: the first refusal
        // teaches it (one request per model while the relay runs), and the request goes again with notes.
        exchange.refusedImages();
        deps.logger.warn({ provider: provider.id, model }, 'the model refused images: sending notes instead');
        images = false;
      } else if (answer !== null) {
        // A deployment's per-request limit: the CLI re-sends the whole history, so a conversation past it would
        // fail every turn. The latest images go; each request learns it anew (the refusal costs little).
        deps.logger.warn(
          { provider: provider.id, model, maxImages: answer },
          'too many images: sending the latest',
        );
        maxImages = answer;
      } else {
        const allowed = lowerable(error);
        if (allowed === null) throw error;
        lowered = true;
        // A model's own ceiling holds for every request; a context's share depends on this request's input,
        // which only the provider counts exactly, so that one is taken from each refusal and not remembered.
        if (allowed.kind === 'model') exchange.learnedOutputCeiling(allowed.tokens);
        deps.logger.warn(
          { provider: provider.id, model, maxTokens: allowed.tokens, limit: allowed.kind },
          'the model refused max_tokens: sending the largest it allows',
        );
        ceiling = allowed.tokens;
      }
      conversion = convert();
    }
  }
  return upstream;
}

/**
 * What a 400 says about images: `'none'` when the model takes none ("image input is not supported", "is not a
 * multimodal model", "Model does not support images", "No endpoints found that support image input", "image_url is
 * only supported by certain models", vLLM's "At most 0 image(s)"); a number when it takes that many per request
 * ("At most 1 image(s) may be provided", "Multiple images are not supported"). Null for anything else: a format it
 * refuses ("Unsupported MIME type: image/webp"), an image it cannot decode, a vision model's name in another error;
 * those must not blind a model that sees for the rest of the run.
 */
export function imageRefusal(error: unknown): 'none' | number | null {
  if (!(error instanceof ProxyError) || error.extra.upstreamStatus !== 400) return null;
  const words = error.message;
  const atMost = /at most (\d+) images?\b/i.exec(words);
  if (atMost) return Number(atMost[1]) === 0 ? 'none' : Number(atMost[1]);
  if (/multiple images (?:are|is) not supported|only (?:one|a single) image/i.test(words)) return 1;
  if (!/image|vision|multi-?modal/i.test(words) || /mime|format|decode|corrupt|too large|size/i.test(words)) {
    return null;
  }
  return /not supported|does(?: not|n't) (?:support|accept)|unsupported|not a (?:multi-?modal|vision)|only supported by|no endpoints found that support|cannot (?:read|process|accept|handle)/i.test(
    words,
  )
    ? 'none'
    : null;
}

/**
 * What a refused `max_tokens` may become: the largest value the provider's 400 names, when that is below what was
 * sent and at least 1 (an input that fills the context alone is not helped by any). Null for every other error.
 */
function allowedByRefusal(
  error: unknown,
  sent: unknown,
): { kind: OutputCeiling['kind']; tokens: number } | null {
  if (!(error instanceof ProxyError) || typeof sent !== 'number') return null;
  const status = error.extra.upstreamStatus;
  // 422: Text Generation Inference's status for the same refusal.
  if (status !== 400 && status !== 422) return null;
  const ceiling = parseOutputCeiling(error.message);
  if (ceiling === null) return null;
  const tokens = allowedOutput(ceiling);
  return tokens >= 1 && tokens < sent ? { kind: ceiling.kind, tokens } : null;
}

async function collect(
  upstream: UpstreamResponse,
  translator: StreamTranslator,
  stats: ProviderCounters,
): Promise<AnthropicEvent[]> {
  const events: AnthropicEvent[] = [];
  const outcome = await pumpChunks(upstream, translator, (batch) => events.push(...batch));
  stats.malformedChunks += outcome.malformedChunks;
  if (outcome.failure !== undefined) {
    events.push(...translator.fail('overloaded_error', `provider stream failed: ${outcome.failure.message}`));
  }
  return events;
}

async function streamOut(
  upstream: UpstreamResponse,
  translator: StreamTranslator,
  res: ServerResponse,
  { stats, signal }: ProviderExchange,
  deps: OpenAiPathDeps,
): Promise<boolean> {
  res.writeHead(200, SSE_HEADERS);
  const out = createCoalescingWriter(res, setImmediate);
  /** Whether anything went out since the last tick: a store per write, where reading a clock would cost more. */
  let spoke = false;
  const write = (events: AnthropicEvent[]) => {
    if (events.length === 0 || res.destroyed) return;
    out.write(events);
    spoke = true;
  };
  // Pings keep the CLI's idle watchdog and any intermediary satisfied while the provider thinks silently: one
  // goes out at every tick that ends a whole interval in which nothing else did.
  const ping = setInterval(() => {
    if (!spoke) write(translator.ping());
    spoke = false;
  }, deps.pingIntervalMs);
  try {
    const outcome = await pumpChunks(upstream, translator, write);
    stats.malformedChunks += outcome.malformedChunks;
    if (outcome.failure !== undefined && !signal.aborted) {
      deps.logger.warn({ err: outcome.failure }, 'upstream stream broke');
      stats.errors++;
      // An error event makes the CLI retry the request (non-streaming); a silent end would lose the answer.
      write(translator.fail('overloaded_error', `provider stream broke: ${outcome.failure.message}`));
    }
    return outcome.failure !== undefined || signal.aborted;
  } finally {
    clearInterval(ping);
    out.end();
  }
}
