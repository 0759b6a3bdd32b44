import type { AnthropicErrorType } from './anthropic-types.js';

// The proxy's one error type and its one mapping to the wire. Retry decisions read these fields, never text.

export type ProxyErrorKind = 'client_request' | 'upstream_http' | 'upstream_protocol' | 'rate_limited';

export class ProxyError extends Error {
  constructor(
    readonly kind: ProxyErrorKind,
    /** Status sent to the client: 429 / 529 make the CLI retry, 400 makes it fail fast with the message. */
    readonly status: number,
    readonly type: AnthropicErrorType,
    message: string,
    readonly extra: { retryAfterMs?: number; upstreamStatus?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = 'ProxyError';
  }
}

export function errorJson(type: AnthropicErrorType, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}

/** Upstream HTTP status → what the CLI should see. */
export function fromUpstreamStatus(provider: string, status: number, detail: string | undefined): ProxyError {
  const said = detail ? `: ${detail}` : '';
  const extra = { upstreamStatus: status };
  if (status === 429) {
    return new ProxyError(
      'rate_limited',
      429,
      'rate_limit_error',
      `${provider} rate limit reached${said}`,
      extra,
    );
  }
  if (status === 401 || status === 403) {
    // Not 401: the CLI would retry for a minute and then say "Please run /login", which misleads.
    return new ProxyError(
      'upstream_http',
      400,
      'invalid_request_error',
      `${provider} refused the API key (HTTP ${status})${said}. Check the provider key in .env.`,
      extra,
    );
  }
  if (status === 404) {
    return new ProxyError(
      'upstream_http',
      400,
      'invalid_request_error',
      `${provider} does not know this model or route (HTTP 404)${said}. Check MODEL.`,
      extra,
    );
  }
  if (status >= 400 && status < 500) {
    return new ProxyError(
      'upstream_http',
      400,
      'invalid_request_error',
      `${provider} rejected the request (HTTP ${status})${said}`,
      extra,
    );
  }
  if (status === 502 || status === 503 || status === 504 || status === 529) {
    return new ProxyError(
      'upstream_http',
      529,
      'overloaded_error',
      `${provider} is overloaded or unavailable (HTTP ${status})${said}`,
      extra,
    );
  }
  return new ProxyError(
    'upstream_http',
    500,
    'api_error',
    `${provider} failed (HTTP ${status})${said}`,
    extra,
  );
}
