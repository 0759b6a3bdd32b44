import type { ServerResponse } from 'node:http';
import type { Agent } from 'undici';
import type { Clock } from '../common/index.js';
import type { ProxyConfig } from '../config.js';
import type { Logger } from '../log.js';
import { PROVIDERS } from '../providers.js';
import type { AnthropicEvent, Json } from './anthropic-types.js';
import { isRecord, records } from './anthropic-types.js';
import { errorJson, ProxyError } from './errors.js';
import { parseUpstreamChunk } from './openai-chunk.js';
import { passThrough } from './pass-through.js';
import { enterReporting, type ProviderWait, waitReporter } from './provider-waits.js';
import type { RateLimiter } from './rate-limiter.js';
import { toOpenAiRequest } from './request-to-openai.js';
import { routeModel } from './routing.js';
import { detectShortcut } from './shortcuts.js';
import { createSseDecoder } from './sse-decoder.js';
import { createCoalescingWriter, toSse } from './sse-writer.js';
import type { ProviderCounters, StatsBook } from './stats.js';
import { reduceMessage } from './stream-contract.js';
import { createStreamTranslator, type StreamTranslator } from './stream-translator.js';
import { roughTokens } from './tokens.js';
import type { ToolsMemo } from './tools-memo.js';
import { callUpstream, type UpstreamResponse } from './upstream.js';

// POST /v1/messages: shortcut, route, convert, call the provider, translate back: as SSE when the client
// streams, as one JSON message otherwise (folded from the very same events).

export interface MessagesDeps {
  config: ProxyConfig;
  logger: Logger;
  agent: Agent;
  clock: Clock;
  limiterFor(provider: string): RateLimiter;
  stats: StatsBook;
  /** Parses, converts and encodes the CLI's repeated tools array once (see tools-memo.ts). */
  tools: ToolsMemo;
  newId(prefix: string): string;
  pingIntervalMs: number;
  /** Hears why a relay session's request waits (provider-waits.ts). */
  onProviderWait?(wait: ProviderWait): void;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, error: ProxyError): void {
  const headers: Record<string, string> = {};
  if (error.extra.retryAfterMs !== undefined)
    headers['retry-after'] = String(Math.ceil(error.extra.retryAfterMs / 1000));
  sendJson(res, error.status, errorJson(error.type, error.message), headers);
}

function answerLocally(
  res: ServerResponse,
  stream: boolean,
  text: string,
  model: string,
  deps: MessagesDeps,
): void {
  const translator = createStreamTranslator({
    messageId: deps.newId('msg'),
    model,
    inputTokens: 10,
    newToolId: () => deps.newId('toolu'),
  });
  const events = [
    ...translator.start(),
    ...translator.push({ reasoning: '', content: text, toolCalls: [] }),
    ...translator.end(),
  ];
  if (stream) {
    res.writeHead(200, SSE_HEADERS);
    res.end(toSse(events));
  } else sendJson(res, 200, JSON.stringify(reduceMessage(events)));
}

export async function handleMessages(
  request: Json,
  rawBytes: number,
  res: ServerResponse,
  deps: MessagesDeps,
  /** The relay session that sent it, when one did (provider-waits.ts). */
  relayNode?: string,
): Promise<void> {
  const { config, logger } = deps;
  if (typeof request.model !== 'string' || records(request.messages).length === 0) {
    throw new ProxyError(
      'client_request',
      400,
      'invalid_request_error',
      'model (string) and a non-empty messages array are required',
    );
  }
  const stream = request.stream === true;
  const shortcut = detectShortcut(request, config.shortcuts);
  if (shortcut) {
    logger.debug({ shortcut: shortcut.kind }, 'answered locally');
    answerLocally(res, stream, shortcut.text, request.model, deps);
    return;
  }
  const route = routeModel(config.models, request.model);
  const provider = PROVIDERS[route.provider];
  const settings = config.providers[route.provider];
  if (provider.key?.required && !settings.apiKey) {
    throw new ProxyError(
      'client_request',
      400,
      'invalid_request_error',
      `${provider.key.variable} is not set: add it to .env (provider ${provider.id}).`,
    );
  }
  const model = route.model || request.model;
  const stats = deps.stats.of(provider.id);
  stats.requests++;

  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort(new Error('client disconnected'));
  });
  const limiter = deps.limiterFor(provider.id);
  const onWait = waitReporter(deps.onProviderWait, relayNode, provider.id);
  const release = await enterReporting(limiter, abort.signal, onWait);
  try {
    if (provider.protocol === 'anthropic-messages') {
      await passThrough({
        request,
        model,
        provider,
        settings,
        res,
        signal: abort.signal,
        limiter,
        onWait,
        deps,
        stats,
      });
      return;
    }
    const conversion = toOpenAiRequest(request, {
      provider,
      model,
      stream,
      convertTools: deps.tools.convertTools,
    });
    if (conversion.repairs > 0)
      logger.info({ repairs: conversion.repairs }, 'repaired orphan tool calls/results');
    let upstream: UpstreamResponse;
    try {
      upstream = await callUpstream(
        {
          provider,
          settings,
          body: deps.tools.serialize(conversion.body),
          signal: abort.signal,
          limiter,
          onRateLimited: () => stats.rateLimited++,
          onWait,
        },
        deps.agent,
        deps.clock,
        deps.config.timeouts.writeMs,
      );
    } catch (error) {
      stats.errors++;
      throw error;
    }
    const translator = createStreamTranslator({
      messageId: deps.newId('msg'),
      model,
      inputTokens: roughTokens(rawBytes),
      newToolId: () => deps.newId('toolu'),
    });
    if (stream) await streamOut(upstream, translator, res, deps, abort.signal, stats);
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
  } finally {
    release();
  }
}

function hasChoicesOrError(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if ('choices' in value && Array.isArray(value.choices) && value.choices.length > 0) return true;
  return 'error' in value && typeof value.error === 'object' && value.error !== null;
}

/** Feeds the upstream body through the decoder into the translator; `emit` gets each batch of events. */
async function pump(
  upstream: UpstreamResponse,
  translator: StreamTranslator,
  emit: (events: AnthropicEvent[]) => void,
  stats: ProviderCounters,
): Promise<void> {
  const out: AnthropicEvent[] = [...translator.start()];
  if (upstream.contentType.includes('application/json')) {
    // Not a stream (the client or server chose JSON): one completion, same translation.
    let text = '';
    for await (const chunk of upstream.body) text += chunk.toString('utf8');
    const value: unknown = JSON.parse(text);
    // A completion with neither choices nor an error would become an empty answer the user cannot tell apart
    // from a model that said nothing: treat it as the provider failure it is.
    if (!hasChoicesOrError(value)) throw new Error('the provider answered without any choices');
    out.push(...translator.push(parseUpstreamChunk(value)), ...translator.end());
    emit(out);
    return;
  }
  emit(out.splice(0)); // message_start goes out as soon as the provider has accepted the request
  let done = false;
  let finished = false;
  /** Whether any chunk carried a choice: a stream without one (junk, or nothing) is a failure, not an empty answer. */
  let usable = false;
  const decoder = createSseDecoder({
    onUnknownLine: () => stats.malformedChunks++,
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
        stats.malformedChunks++; // junk in a data line: skipped (the stream goes on), counted, visible in stats
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
        stats.malformedChunks++;
      else if (Array.isArray(value.choices) && value.choices.length > 0) usable = true;
      const delta = parseUpstreamChunk(value);
      if (delta.finishReason) finished = true;
      out.push(...translator.push(delta));
    },
  });
  const text = new TextDecoder();
  for await (const chunk of upstream.body) {
    decoder.feed(text.decode(chunk, { stream: true }));
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

async function collect(
  upstream: UpstreamResponse,
  translator: StreamTranslator,
  stats: ProviderCounters,
): Promise<AnthropicEvent[]> {
  const events: AnthropicEvent[] = [];
  try {
    await pump(upstream, translator, (batch) => events.push(...batch), stats);
  } catch (error) {
    events.push(
      ...translator.fail(
        'overloaded_error',
        `provider stream failed: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  }
  return events;
}

async function streamOut(
  upstream: UpstreamResponse,
  translator: StreamTranslator,
  res: ServerResponse,
  deps: MessagesDeps,
  signal: AbortSignal,
  stats: ProviderCounters,
): Promise<void> {
  res.writeHead(200, SSE_HEADERS);
  let lastWrite = Date.now();
  const out = createCoalescingWriter(res, setImmediate);
  const write = (events: AnthropicEvent[]) => {
    if (events.length === 0 || res.destroyed) return;
    out.write(events);
    lastWrite = Date.now();
  };
  // Pings keep the CLI's idle watchdog and any intermediary satisfied while the provider thinks silently.
  const ping = setInterval(() => {
    if (Date.now() - lastWrite >= deps.pingIntervalMs) write(translator.ping());
  }, deps.pingIntervalMs);
  try {
    await pump(upstream, translator, write, stats);
  } catch (error) {
    if (!signal.aborted) {
      deps.logger.warn({ err: error }, 'upstream stream broke');
      stats.errors++;
      // An error event makes the CLI retry the request (non-streaming); a silent end would lose the answer.
      write(
        translator.fail(
          'overloaded_error',
          `provider stream broke: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }
  } finally {
    clearInterval(ping);
    out.end();
  }
}
