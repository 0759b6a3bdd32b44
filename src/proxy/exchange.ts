import type { ProviderDescriptor } from '../providers.js';
import type { ProviderCounters } from './stats.js';
import type { UpstreamCall, UpstreamResponse } from './upstream.js';

// What the route step (messages.ts) hands the path a request takes (openai-path.ts, pass-through.ts): where it
// goes and a way to post there; the paths decide only what to send and how to answer the client.

export interface ProviderExchange {
  provider: ProviderDescriptor;
  /** The request fields this provider gets unless the request sets its own (config's `requestFields`). */
  fields: Readonly<Record<string, unknown>>;
  /** The part of `fields` the user set (config's `userFields`). */
  userFields: Readonly<Record<string, unknown>>;
  /** The model the provider is asked for: the routed one, or the requested one when the route names none. */
  model: string;
  /**
   * The model a translated answer names to the client (cli-compat.ts: the provider's, or the one asked for). A
   * Messages-API provider's answer is passed through and names the model it ran.
   */
  answeredAs: string;
  /** False once this provider+model refused a request for its images (remembered while the relay runs). */
  seesImages: boolean;
  /** Remembers that this provider+model refused images. */
  refusedImages(): void;
  /**
   * The largest `max_tokens` to send in place of the provider's ceiling: the lower of the tier's
   * MODEL_MAX_OUTPUT_TOKENS and what this provider+model said it allows; undefined when neither is known.
   */
  maxOutputTokens: number | undefined;
  /** Remembers the largest `max_tokens` this provider+model allows (while the relay runs). */
  learnedOutputCeiling(tokens: number): void;
  /** This provider's counters (stats.ts). */
  stats: ProviderCounters;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Posts a body to the provider: rate-limited and retried (upstream.ts); a failed call is counted, then thrown. */
  /**
   * Posts `body`. `recoverable`: a refusal the caller answers by sending again (a 400 about images or
   * max_tokens), which is not counted as the provider's error and keeps the PROVIDER_FALLBACK_AFTER timer going.
   */
  send(body: UpstreamCall['body'], recoverable?: (error: unknown) => boolean): Promise<UpstreamResponse>;
}
