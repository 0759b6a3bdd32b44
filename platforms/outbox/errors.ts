// The one error every ChatTransport throws for an API failure. Retry decisions read `kind` and
// `retryAfterMs`, never the message text.

export type ChatApiErrorKind =
  | 'rate_limited'
  | 'bad_format'
  | 'not_modified'
  | 'not_found'
  | 'forbidden'
  | 'server'
  | 'network'
  | 'other';

export class ChatApiError extends Error {
  readonly kind: ChatApiErrorKind;
  readonly retryAfterMs?: number;
  readonly status?: number;

  constructor(
    kind: ChatApiErrorKind,
    message: string,
    options?: { retryAfterMs?: number; status?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatApiError';
    this.kind = kind;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options?.status !== undefined) this.status = options.status;
  }
}

/** Runs one platform API call; whatever it throws comes out as the ChatApiError `toChatApiError` makes of it. */
export async function asChatApiCall<T>(
  toChatApiError: (error: unknown) => ChatApiError,
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toChatApiError(error);
  }
}
