import type { ProviderId, ProviderSettings } from '../config.js';

// Each provider is a small descriptor: how to reach it and what its dialect needs. No class tree.

export interface ProviderDescriptor {
  id: ProviderId;
  /** `openai`: chat completions, translated; `anthropic`: Messages API, passed through. */
  protocol: 'openai' | 'anthropic';
  /** Name of the variable holding its key, for the error shown when it is missing (undefined: no key needed). */
  keyVariable: string | undefined;
  /** The largest `max_tokens` sent (see OUTPUT_LIMITS); the CLI asks for up to 128000, which most refuse. */
  maxOutputTokens: number;
  /** Past thinking goes back as `reasoning_content` (else as `<think>` text in the content). */
  replaysReasoningField: boolean;
  /** JSON Schema keywords this provider rejects in tool parameters (removed recursively). */
  schemaKeywordsToStrip: readonly string[];
  /** Extra top-level body fields when the client asked for thinking. */
  thinkingFields(enabled: boolean): Record<string, unknown>;
}

// Keywords strict back ends (Gemini behind OpenRouter, some NIM models, vLLM guided decoding) reject.
const STRICT_SCHEMA = [
  '$schema',
  '$id',
  '$comment',
  'propertyNames',
  'patternProperties',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'const',
  'format',
  'examples',
  'default',
];

/**
 * Ceilings for `max_tokens`, per provider. Providers refuse a `max_tokens` above what the model can produce
 * (HTTP 400), and the CLI asks for 32000–128000, so the value is clamped. These are conservative defaults,
 * not a per-model table and not checked against live providers (this project never calls them in tests):
 * a model that allows more only gets a shorter longest answer; a model that allows less still gets a 400,
 * which the proxy passes on with the provider's message.
 *
 * | provider      | ceiling | basis                                                                        |
 * |---------------|---------|------------------------------------------------------------------------------|
 * | `nvidia_nim`  | 16384   | the lowest common ceiling seen for NIM-hosted chat models                    |
 * | `open_router` | 32000   | what most routed models accept; OpenRouter clamps further per model itself   |
 * | `lmstudio`    | 32000   | the loaded context is the real limit and LM Studio stops there anyway        |
 * | `openai`      | 32000   | generic OpenAI-compatible servers (vLLM, llama.cpp, Ollama, Groq, DeepSeek)  |
 * | `anthropic`   | 128000  | pass-through: the request is forwarded as the CLI sent it, not clamped       |
 */
export const OUTPUT_LIMITS = {
  nvidia_nim: 16_384,
  open_router: 32_000,
  lmstudio: 32_000,
  openai: 32_000,
  anthropic: 128_000,
} as const satisfies Record<ProviderId, number>;

export const PROVIDERS: Record<ProviderId, ProviderDescriptor> = {
  nvidia_nim: {
    id: 'nvidia_nim',
    protocol: 'openai',
    keyVariable: 'NVIDIA_NIM_API_KEY',
    maxOutputTokens: OUTPUT_LIMITS.nvidia_nim,
    replaysReasoningField: true,
    schemaKeywordsToStrip: STRICT_SCHEMA,
    thinkingFields: (enabled) => ({
      chat_template_kwargs: { thinking: enabled, enable_thinking: enabled },
    }),
  },
  open_router: {
    id: 'open_router',
    protocol: 'openai',
    keyVariable: 'OPENROUTER_API_KEY',
    maxOutputTokens: OUTPUT_LIMITS.open_router,
    replaysReasoningField: true,
    schemaKeywordsToStrip: STRICT_SCHEMA,
    thinkingFields: (enabled) => ({ reasoning: { enabled } }),
  },
  lmstudio: {
    id: 'lmstudio',
    protocol: 'openai',
    keyVariable: undefined,
    maxOutputTokens: OUTPUT_LIMITS.lmstudio,
    replaysReasoningField: false,
    schemaKeywordsToStrip: ['$schema'],
    thinkingFields: () => ({}),
  },
  openai: {
    id: 'openai',
    protocol: 'openai',
    keyVariable: undefined,
    maxOutputTokens: OUTPUT_LIMITS.openai,
    replaysReasoningField: true,
    schemaKeywordsToStrip: ['$schema'],
    thinkingFields: () => ({}),
  },
  anthropic: {
    id: 'anthropic',
    protocol: 'anthropic',
    keyVariable: 'ANTHROPIC_UPSTREAM_KEY',
    maxOutputTokens: OUTPUT_LIMITS.anthropic,
    replaysReasoningField: false,
    schemaKeywordsToStrip: [],
    thinkingFields: () => ({}),
  },
};

/** Headers for a provider call; the key is never logged (the logger scrubs it as well). */
export function upstreamHeaders(
  provider: ProviderDescriptor,
  settings: ProviderSettings,
): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (provider.protocol === 'anthropic') {
    headers['anthropic-version'] = '2023-06-01';
    if (settings.apiKey) headers['x-api-key'] = settings.apiKey;
  } else if (settings.apiKey) {
    headers.authorization = `Bearer ${settings.apiKey}`;
  }
  if (provider.id === 'open_router') {
    headers['x-title'] = 'claude-relay';
  }
  return headers;
}

/** The chat-completions (or messages) endpoint under a base URL such as `https://host/v1`. */
export function upstreamUrl(provider: ProviderDescriptor, settings: ProviderSettings): string {
  const base = settings.baseUrl.replace(/\/+$/, '');
  return provider.protocol === 'anthropic' ? `${base}/v1/messages` : `${base}/chat/completions`;
}
