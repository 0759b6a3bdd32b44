import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { Clock } from '../common/index.js';
import type { ProviderSettings, ProxyConfig } from '../config.js';
import type { ProviderDescriptor } from '../providers.js';
import { fromUpstreamStatus, ProxyError } from './errors.js';
import type { RateLimiter } from './rate-limiter.js';
import { errorJsonMessage } from './upstream-errors.js';

// The I/O edge towards a provider: one POST with timeouts from config, retried on 429 (Retry-After honoured,
// exponential backoff with jitter, cool-down shared through the limiter) and once on a 5xx.

export type UpstreamBody = AsyncIterable<Buffer>;

export interface UpstreamResponse {
  status: number;
  contentType: string;
  body: UpstreamBody;
}

export interface UpstreamCall {
  provider: ProviderDescriptor;
  settings: ProviderSettings;
  /** The JSON body, whole or in pieces sent in order. */
  body: string | Buffer | readonly Buffer[];
  signal: AbortSignal;
  limiter: RateLimiter;
  /** Counts 429s seen, for stats. */
  onRateLimited(): void;
  /** Hears of every wait before it starts, so the client's user can be told why nothing happens. */
  onWait?(wait: UpstreamWait): void;
}

/**
 * Why a request is held before it reaches the provider: `rate_limited` (a 429, its own or another request's,
 * being waited out), `rate_window` (PROVIDER_RATE_LIMIT per PROVIDER_RATE_WINDOW already used), `busy`
 * (PROVIDER_MAX_CONCURRENCY streams open; no known end, so `delayMs` is null); then `over` when the request
 * goes out after all. `attempt` of `maxRetries` only for this request's own 429s.
 */
export interface UpstreamWait {
  reason: 'rate_limited' | 'rate_window' | 'busy' | 'over' | 'fallback';
  delayMs: number | null;
  attempt: number | null;
  maxRetries: number | null;
  /** `fallback`: why this provider was left, and the model answering instead (MODEL_FALLBACKS). */
  fallback?: { cause: string; next: string };
}

const MAX_429_RETRIES = 3;

export const WAIT_OVER: UpstreamWait = { reason: 'over', delayMs: null, attempt: null, maxRetries: null };
/** A Retry-After longer than this is handed to the client (which retries itself) instead of waited out here. */
const MAX_WAIT_MS = 30_000;

/** Bodies go out in pieces of this size, so a provider that stops reading is noticed (HTTP_WRITE_TIMEOUT). */
const WRITE_PIECE = 64 * 1024;
/**
 * A body up to this size goes out as one buffer with the headers (one syscall): the socket's send buffer takes
 * it whole at once, so it could never stall and HTTP_WRITE_TIMEOUT has nothing to time. Larger bodies stream.
 */
const ONE_WRITE = 512 * 1024;

/**
 * The body as a stream that hands out one piece per read: undici writes each piece and pauses the stream until
 * the socket drains, so "the stream ended" means the provider took the whole body. The clock starts at the
 * first read (after connecting, which HTTP_CONNECT_TIMEOUT covers) and stops once the last piece is accepted.
 */
function timedBody(
  parts: readonly Buffer[],
  writeMs: number,
  onTimeout: () => void,
): { body: Readable; done(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let part = 0;
  let at = 0;
  const done = () => clearTimeout(timer);
  const body = new Readable({
    highWaterMark: 0,
    read() {
      timer ??= setTimeout(onTimeout, writeMs);
      let current = parts[part];
      while (current && at >= current.length) {
        part++;
        at = 0;
        current = parts[part];
      }
      if (!current) {
        done();
        this.push(null);
        return;
      }
      this.push(current.subarray(at, at + WRITE_PIECE));
      at += WRITE_PIECE;
    },
    destroy(error, callback) {
      done();
      callback(error);
    },
  });
  return { body, done };
}

export function createUpstreamAgent(timeouts: ProxyConfig['timeouts']): Agent {
  return new Agent({
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.readMs,
    bodyTimeout: timeouts.readMs,
    keepAliveTimeout: 30_000,
    connections: 256,
  });
}

/** Headers for a provider call; the key is never logged (the logger scrubs it as well). */
function upstreamHeaders(provider: ProviderDescriptor, settings: ProviderSettings): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (settings.protocol === 'anthropic-messages') {
    headers['anthropic-version'] = '2023-06-01';
    if (settings.apiKey) headers['x-api-key'] = settings.apiKey;
  } else if (settings.apiKey) {
    headers.authorization = `Bearer ${settings.apiKey}`;
  }
  return Object.assign(headers, provider.headers);
}

/** The chat-completions (or messages) endpoint under a base URL such as `https://host/v1`. */
function upstreamUrl(provider: ProviderDescriptor, settings: ProviderSettings): string {
  const base = settings.baseUrl.replace(/\/+$/, '');
  if (settings.protocol === 'openai-chat') return `${base}/chat/completions`;
  // A server reached natively is addressed under its OpenAI-style base (`…/v1` + `/messages`).
  return `${base}${provider.nativeMessages?.path ?? '/v1/messages'}`;
}

function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export async function callUpstream(
  call: UpstreamCall,
  agent: Agent,
  clock: Clock,
  writeTimeoutMs: number,
  random: () => number = Math.random,
): Promise<UpstreamResponse> {
  const url = upstreamUrl(call.provider, call.settings);
  const parts =
    typeof call.body === 'string'
      ? [Buffer.from(call.body)]
      : Buffer.isBuffer(call.body)
        ? [call.body]
        : call.body;
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const headers = { ...upstreamHeaders(call.provider, call.settings), 'content-length': String(length) };
  let serverErrors = 0;
  for (let attempt = 0; ; attempt++) {
    const onWait = call.onWait;
    if (onWait === undefined) await call.limiter.pace(call.signal);
    else {
      await call.limiter.pace(call.signal, (ms, cause) =>
        onWait({
          reason: cause === 'window' ? 'rate_window' : 'rate_limited',
          delayMs: ms,
          attempt: null,
          maxRetries: null,
        }),
      );
      onWait(WAIT_OVER);
    }
    let response: Awaited<ReturnType<typeof request>>;
    // Only a streamed body can time out while writing; a one-write body needs no second signal (and
    // AbortSignal.any costs more per request than the rest of this function).
    const writeAbort = length <= ONE_WRITE ? undefined : new AbortController();
    const body = writeAbort
      ? timedBody(parts, writeTimeoutMs, () => writeAbort.abort(new Error('write timeout')))
      : { body: parts.length === 1 ? parts[0] : Buffer.concat(parts, length), done: () => {} };
    try {
      response = await request(url, {
        method: 'POST',
        headers,
        body: body.body,
        signal: writeAbort ? AbortSignal.any([call.signal, writeAbort.signal]) : call.signal,
        dispatcher: agent,
      });
    } catch (error) {
      body.done();
      if (call.signal.aborted) throw error;
      if (writeAbort?.signal.aborted) {
        throw new ProxyError(
          'upstream_http',
          529,
          'overloaded_error',
          `${call.provider.id} did not take the request within HTTP_WRITE_TIMEOUT (${writeTimeoutMs / 1000} s)`,
          { cause: error },
        );
      }
      throw new ProxyError(
        'upstream_http',
        529,
        'overloaded_error',
        `could not reach ${call.provider.id} at ${new URL(url).host}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    body.done(); // an answer arrived: the provider has stopped reading, whether or not it took everything
    const contentType = String(response.headers['content-type'] ?? '');
    if (response.statusCode >= 200 && response.statusCode < 300) {
      return { status: response.statusCode, contentType, body: response.body };
    }
    const detail = errorJsonMessage(await response.body.text().catch(() => ''));
    const mapped = fromUpstreamStatus(call.provider.id, response.statusCode, detail);
    if (response.statusCode === 429) {
      call.onRateLimited();
      const asked = retryAfterMs(response.headers['retry-after'], clock.now());
      const backoff = asked ?? 1000 * 2 ** attempt;
      const delay = Math.round(backoff + backoff * 0.25 * random());
      call.limiter.coolDown(delay);
      if (attempt >= MAX_429_RETRIES || delay > MAX_WAIT_MS) {
        throw new ProxyError('rate_limited', 429, 'rate_limit_error', mapped.message, {
          retryAfterMs: delay,
          upstreamStatus: 429,
        });
      }
      call.onWait?.({
        reason: 'rate_limited',
        delayMs: delay,
        attempt: attempt + 1,
        maxRetries: MAX_429_RETRIES,
      });
      await clock.sleep(delay, call.signal);
      continue;
    }
    if (response.statusCode >= 500 && serverErrors++ === 0) {
      await clock.sleep(250 + Math.round(250 * random()), call.signal);
      continue;
    }
    throw mapped;
  }
}
