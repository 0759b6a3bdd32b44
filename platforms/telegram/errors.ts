import { GrammyError, HttpError } from 'grammy';
import { asChatApiCall, ChatApiError } from '../outbox/index.js';

// The one place Telegram failures become ChatApiError kinds. Bot API errors carry only a code and a
// description, so the 400 sub-kinds are told apart by the description Telegram documents for each.

export function toTelegramChatApiError(error: unknown): ChatApiError {
  if (error instanceof ChatApiError) return error;
  if (error instanceof GrammyError) {
    const status = error.error_code;
    const description = error.description;
    const options = { status, cause: error };
    if (status === 429) {
      const seconds = error.parameters.retry_after ?? 1;
      return new ChatApiError('rate_limited', description, { ...options, retryAfterMs: seconds * 1000 });
    }
    if (/can't parse entities|can't find end of the entity|unsupported start tag/i.test(description)) {
      return new ChatApiError('bad_format', description, options);
    }
    if (/message is not modified/i.test(description))
      return new ChatApiError('not_modified', description, options);
    if (
      /not found|message can't be (edited|deleted)|message_id_invalid/i.test(description) ||
      status === 404
    ) {
      return new ChatApiError('not_found', description, options);
    }
    if (status === 401 || status === 403) return new ChatApiError('forbidden', description, options);
    if (status >= 500) return new ChatApiError('server', description, options);
    return new ChatApiError('other', description, options);
  }
  if (error instanceof HttpError) return new ChatApiError('network', error.message, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new ChatApiError('network', message, { cause: error });
}

/** Runs one Bot API call; whatever it throws comes out as a ChatApiError. */
export function telegramCall<T>(operation: () => Promise<T>): Promise<T> {
  return asChatApiCall(toTelegramChatApiError, operation);
}
