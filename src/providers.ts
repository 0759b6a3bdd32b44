// Every provider the relay can reach, in one table: config reads each one's variables and defaults from it, the
// start-up warning its key, the proxy its dialect. Adding a provider is one entry here; `ProviderId` follows
// from the keys, so every per-provider record elsewhere asks for the new one at compile time. A leaf: no imports.

/** How hard a reasoning model should think, in the words OpenAI-style APIs use (src/proxy/reasoning-effort.ts). */
export type ReasoningEffort = 'low' | 'medium' | 'high';

/** `openai-chat`: chat completions, translated both ways; `anthropic-messages`: the Messages API, passed through. */
export type ProviderProtocol = 'openai-chat' | 'anthropic-messages';

interface ProviderEntry {
  readonly id: string;
  /** How a chat names it ("OpenRouter rate limited …"); the generic `openai` entry is just "the provider". */
  readonly label: string;
  readonly protocol: ProviderProtocol;
  /**
   * A server that also speaks the Messages API itself: `<variable>=messages` sends requests there untranslated,
   * to `<base URL><path>` (free-claude-code's way); `chat` (the default) keeps the chat-completions route, with
   * the relay's parsers for thinking and printed tool calls.
   */
  readonly nativeMessages: { readonly variable: string; readonly path: string } | undefined;
  /** Its API key: the variable holding it, and whether every request fails without it. Absent: it takes none. */
  readonly key: { readonly variable: string; readonly required: boolean } | undefined;
  readonly baseUrlVariable: string;
  /** '' when no default makes sense: a model routed here then makes `baseUrlVariable` required. */
  readonly defaultBaseUrl: string;
  /** What `MODEL` means when unset and this is PROVIDER_TYPE: a free model that handles tools well, or ''. */
  readonly defaultModel: string;
  /** An empty model keeps the model the client asked for (the pass-through) instead of being a config error. */
  readonly keepsRequestedModel: boolean;
  /** Sent on every call besides content type, accept and the key. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The largest `max_tokens` sent. Providers refuse a `max_tokens` above what the model can produce (HTTP 400),
   * and the CLI asks for 32000–128000, so the value is clamped. These are conservative defaults, not a
   * per-model table and not checked against live providers (this project never calls them in tests): a model
   * that allows more only gets a shorter longest answer; a model that allows less answers 400, and when the
   * message names its limit the proxy sends the request again within it and remembers it for that model
   * (src/proxy/output-ceiling.ts); MODEL_MAX_OUTPUT_TOKENS replaces this value up front. Each entry cites the
   * provider's documentation it rests on, or says that none was found.
   */
  readonly maxOutputTokens: number;
  /**
   * `content` of an assistant message that only calls tools. The OpenAI spec makes it nullable there, but
   * servers disagree: some refuse `null` ("content must be a string"), others an empty string (an empty text
   * block). Each entry says what its choice rests on.
   */
  readonly toolCallOnlyContent: '' | null;
  /** Past thinking goes back as `reasoning_content` (else as `<think>` text in the content). */
  readonly replaysReasoningField: boolean;
  /** JSON Schema keywords this provider rejects in tool parameters (removed recursively). */
  readonly schemaKeywordsToStrip: readonly string[];
  /**
   * Extra top-level body fields when the request has a `thinking` setting: whether thinking is on, and the effort
   * the CLI asked for where this provider takes one (undefined when it said none, or the user's settings fix it).
   */
  thinkingFields(enabled: boolean, effort: ReasoningEffort | undefined): Record<string, unknown>;
  /** Request fields sent when the request sets none of its own (sampling defaults, reasoning switches). */
  readonly requestDefaults: Readonly<Record<string, unknown>>;
  /**
   * A variable holding a JSON object of request fields that override the defaults (free-claude-code's `NIM`),
   * with the fields it may set; anything else is a start-up error. `max_tokens` there raises or lowers the
   * `maxOutputTokens` ceiling.
   */
  readonly settings:
    | { readonly variable: string; readonly fields: Readonly<Record<string, SettingRule>> }
    | undefined;
}

/** What a settings field accepts: a number in a range (whole when `integer`), or one of some words. */
export type SettingRule =
  | { readonly kind: 'number'; readonly min: number; readonly max: number; readonly integer?: boolean }
  | { readonly kind: 'choice'; readonly values: readonly string[] }
  | { readonly kind: 'flag' };

// The sampling and reasoning fields NVIDIA NIM's OpenAI endpoint takes, with free-claude-code's bounds.
const NIM_SETTINGS: Readonly<Record<string, SettingRule>> = {
  temperature: { kind: 'number', min: 0, max: 2 },
  top_p: { kind: 'number', min: 0, max: 1 },
  top_k: { kind: 'number', min: -1, max: 1_000_000, integer: true },
  max_tokens: { kind: 'number', min: 1, max: 1_000_000, integer: true },
  presence_penalty: { kind: 'number', min: -2, max: 2 },
  frequency_penalty: { kind: 'number', min: -2, max: 2 },
  min_p: { kind: 'number', min: 0, max: 1 },
  repetition_penalty: { kind: 'number', min: 0, max: 10 },
  min_tokens: { kind: 'number', min: 0, max: 1_000_000, integer: true },
  seed: { kind: 'number', min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
  reasoning_effort: { kind: 'choice', values: ['low', 'medium', 'high'] },
  include_reasoning: { kind: 'flag' },
  parallel_tool_calls: { kind: 'flag' },
};

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

const NO_THINKING_FIELDS = () => ({});

/** Checks each entry's `id` against its key, so a copied entry cannot keep the id it was copied from. */
function table<const T extends { readonly [K in keyof T]: ProviderEntry & { readonly id: K } }>(
  entries: T,
): T {
  return entries;
}

const TABLE = table({
  nvidia_nim: {
    id: 'nvidia_nim',
    label: 'NVIDIA NIM',
    protocol: 'openai-chat',
    nativeMessages: undefined,
    key: { variable: 'NVIDIA_NIM_API_KEY', required: true },
    baseUrlVariable: 'NVIDIA_NIM_BASE_URL',
    defaultBaseUrl: 'https://integrate.api.nvidia.com/v1',
    defaultModel: 'moonshotai/kimi-k2-instruct',
    keepsRequestedModel: false,
    headers: {},
    // NIM documents the range per model, at https://docs.api.nvidia.com/nim/reference/<model>-infer: e.g.
    // nvidia-nemotron-3-super-120b-a12b 1 to 32768 (default 16384), moonshotai-kimi-k2-6 1 to 65536, and a
    // code helper (nvidia-usdcode) 1 to 2048. No page was found for the default model (kimi-k2-instruct). 16384
    // is within every general chat model's range found, so it stays; `NIM={"max_tokens":…}` moves it.
    maxOutputTokens: 16_384,
    toolCallOnlyContent: '', // what free-claude-code sends NIM, in use there; no report of a refusal either way
    replaysReasoningField: true,
    schemaKeywordsToStrip: STRICT_SCHEMA,
    thinkingFields: (enabled, effort) => ({
      chat_template_kwargs: { thinking: enabled, enable_thinking: enabled },
      ...(enabled && effort !== undefined ? { reasoning_effort: effort } : {}),
    }),
    requestDefaults: {
      // What free-claude-code sends NIM: sampling at 1.0, calls in parallel, reasoning on and high.
      temperature: 1,
      top_p: 1,
      parallel_tool_calls: true,
      reasoning_effort: 'high',
      include_reasoning: true,
    },
    settings: { variable: 'NIM', fields: NIM_SETTINGS },
  },
  open_router: {
    id: 'open_router',
    label: 'OpenRouter',
    protocol: 'openai-chat',
    nativeMessages: undefined,
    key: { variable: 'OPENROUTER_API_KEY', required: true },
    baseUrlVariable: 'OPENROUTER_BASE_URL',
    defaultBaseUrl: 'https://openrouter.ai/api/v1',
    defaultModel: 'qwen/qwen3-coder:free',
    keepsRequestedModel: false,
    headers: { 'x-title': 'claude-relay' }, // the app name on OpenRouter's activity page
    // https://openrouter.ai/docs/api-reference/overview documents max_tokens only as "Range: [1,
    // context_length)" of the routed model: no provider-wide number. 32000 is this project's choice, unchanged.
    maxOutputTokens: 32_000,
    // OpenRouter follows the OpenAI spec (null allowed) and hands messages to Bedrock/Anthropic routes, which
    // refuse empty text blocks ("text content blocks must be non-empty", github.com/vercel/ai/pull/13538).
    toolCallOnlyContent: null,
    replaysReasoningField: true,
    schemaKeywordsToStrip: STRICT_SCHEMA,
    // https://openrouter.ai/docs/use-cases/reasoning-tokens: `reasoning.effort` is low, medium or high.
    thinkingFields: (enabled, effort) => ({
      reasoning: enabled && effort !== undefined ? { enabled, effort } : { enabled },
    }),
    requestDefaults: {},
    settings: undefined,
  },
  lmstudio: {
    id: 'lmstudio',
    label: 'LM Studio',
    protocol: 'openai-chat',
    nativeMessages: { variable: 'LM_STUDIO_API', path: '/messages' }, // LM Studio's own POST /v1/messages
    key: undefined,
    baseUrlVariable: 'LM_STUDIO_BASE_URL',
    defaultBaseUrl: 'http://localhost:1234/v1',
    defaultModel: 'local-model',
    keepsRequestedModel: false,
    headers: {},
    // No output ceiling found in LM Studio's docs (https://lmstudio.ai/docs/api/openai-api): the loaded
    // context is the real limit and LM Studio stops there anyway. 32000 is this project's choice.
    maxOutputTokens: 32_000,
    toolCallOnlyContent: '', // LM Studio refused null: github.com/lmstudio-ai/lmstudio-bug-tracker/issues/261
    replaysReasoningField: false,
    schemaKeywordsToStrip: ['$schema'],
    thinkingFields: NO_THINKING_FIELDS,
    requestDefaults: {},
    settings: undefined,
  },
  llamacpp: {
    id: 'llamacpp',
    label: 'llama.cpp',
    protocol: 'openai-chat',
    nativeMessages: { variable: 'LLAMACPP_API', path: '/messages' }, // llama-server's own POST /v1/messages
    key: undefined,
    baseUrlVariable: 'LLAMACPP_BASE_URL',
    defaultBaseUrl: 'http://localhost:8080/v1', // llama-server's default port
    defaultModel: 'local-model', // llama-server answers with whatever model it loaded
    keepsRequestedModel: false,
    headers: {},
    // llama-server's `-n, --predict` defaults to -1, no limit (its README, github.com/ggml-org/llama.cpp,
    // tools/server): the context (-c) is the real limit and it stops there. 32000 is this project's choice.
    maxOutputTokens: 32_000,
    toolCallOnlyContent: '', // accepted by llama-server's template code; no report of a refusal either way
    replaysReasoningField: false,
    schemaKeywordsToStrip: ['$schema'],
    thinkingFields: NO_THINKING_FIELDS,
    requestDefaults: {},
    settings: undefined,
  },
  openai: {
    id: 'openai',
    label: 'the provider',
    protocol: 'openai-chat',
    nativeMessages: undefined,
    key: { variable: 'OPENAI_API_KEY', required: false }, // local servers take none
    baseUrlVariable: 'OPENAI_BASE_URL',
    defaultBaseUrl: '',
    defaultModel: '',
    keepsRequestedModel: false,
    headers: {},
    // Generic servers (vLLM, Ollama, Groq, DeepSeek …) differ per model; no one document applies. Known low one:
    // DeepSeek documents 8K max output (https://api-docs.deepseek.com/quick_start/pricing-details-usd), so its
    // API refuses this value with a 400 that names its range (read by src/proxy/output-ceiling.ts). 32000 is this
    // project's choice, unchanged.
    maxOutputTokens: 32_000,
    toolCallOnlyContent: '', // Ollama refuses null ("invalid message content type: <nil>", pydantic/pydantic-ai#5206)
    replaysReasoningField: true,
    schemaKeywordsToStrip: ['$schema'],
    thinkingFields: NO_THINKING_FIELDS,
    requestDefaults: {},
    settings: undefined,
  },
  anthropic: {
    id: 'anthropic',
    label: 'Anthropic',
    protocol: 'anthropic-messages',
    nativeMessages: undefined,
    key: { variable: 'ANTHROPIC_UPSTREAM_KEY', required: false }, // the server may not ask for one
    baseUrlVariable: 'ANTHROPIC_UPSTREAM_URL',
    defaultBaseUrl: '',
    defaultModel: '',
    keepsRequestedModel: true,
    headers: {},
    maxOutputTokens: 128_000, // not applied: the request is passed through as the CLI sent it (no document needed)
    toolCallOnlyContent: '', // not used: the Messages API is passed through
    replaysReasoningField: false,
    schemaKeywordsToStrip: [],
    thinkingFields: NO_THINKING_FIELDS,
    requestDefaults: {},
    settings: undefined,
  },
});

export type ProviderId = keyof typeof TABLE;

export interface ProviderDescriptor extends ProviderEntry {
  readonly id: ProviderId;
}

export const PROVIDERS: Readonly<Record<ProviderId, ProviderDescriptor>> = TABLE;

/** The table's entries in its order (which is the order error messages list them in). */
export const PROVIDER_LIST: readonly ProviderDescriptor[] = Object.values(PROVIDERS);

export const PROVIDER_IDS: readonly ProviderId[] = PROVIDER_LIST.map((provider) => provider.id);

/** PROVIDER_TYPE when unset. */
export const DEFAULT_PROVIDER: ProviderId = 'nvidia_nim';

export function findProviderId(name: string): ProviderId | undefined {
  return PROVIDER_IDS.find((id) => id === name);
}

function coversEveryProvider<T>(values: Partial<Record<ProviderId, T>>): values is Record<ProviderId, T> {
  return PROVIDER_IDS.every((id) => id in values);
}

/** One value for each provider, as the per-provider records of config and tests need them. */
export function perProvider<T>(pick: (provider: ProviderDescriptor) => T): Record<ProviderId, T> {
  const values: Partial<Record<ProviderId, T>> = {};
  for (const provider of PROVIDER_LIST) values[provider.id] = pick(provider);
  if (!coversEveryProvider(values)) throw new Error('unreachable: the loop gave every provider a value');
  return values;
}

/** Each provider's `maxOutputTokens`, by id. */
export const OUTPUT_LIMITS: Readonly<Record<ProviderId, number>> = perProvider(
  (provider) => provider.maxOutputTokens,
);
