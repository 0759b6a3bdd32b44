import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { asChatApiCall, ChatApiError } from '../outbox/index.js';

// The one place Discord failures become ChatApiError kinds, read from the structured fields discord.js keeps
// (HTTP status, Discord's JSON error code), never from message text.

const UNKNOWN_CODES = new Set([10003, 10008, 10015, 10062]);
const FORBIDDEN_CODES = new Set([50001, 50013]);
const FORMAT_CODES = new Set([50006, 50035]);

export function toDiscordChatApiError(error: unknown): ChatApiError {
  if (error instanceof ChatApiError) return error;
  if (error instanceof RateLimitError) {
    // retryAfter comes from the Retry-After header; a pre-emptive limit only knows the time to reset.
    const retryAfterMs = Math.max(error.retryAfter, error.timeToReset, 1);
    return new ChatApiError('rate_limited', `rate limited on ${error.route}`, {
      retryAfterMs,
      status: 429,
      cause: error,
    });
  }
  if (error instanceof DiscordAPIError) {
    const code = typeof error.code === 'number' ? error.code : Number(error.code);
    const options = { status: error.status, cause: error };
    if (error.status === 429)
      return new ChatApiError('rate_limited', error.message, { ...options, retryAfterMs: 1000 });
    if (FORMAT_CODES.has(code)) return new ChatApiError('bad_format', error.message, options);
    if (UNKNOWN_CODES.has(code) || error.status === 404)
      return new ChatApiError('not_found', error.message, options);
    if (FORBIDDEN_CODES.has(code) || error.status === 403 || error.status === 401) {
      return new ChatApiError('forbidden', error.message, options);
    }
    if (error.status >= 500) return new ChatApiError('server', error.message, options);
    return new ChatApiError('other', error.message, options);
  }
  if (error instanceof HTTPError) {
    const kind = error.status >= 500 ? 'server' : 'other';
    return new ChatApiError(kind, error.message, { status: error.status, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ChatApiError('network', message, { cause: error });
}

/** Runs one Discord call; whatever it throws comes out as a ChatApiError. */
export function discordCall<T>(operation: () => Promise<T>): Promise<T> {
  return asChatApiCall(toDiscordChatApiError, operation);
}
