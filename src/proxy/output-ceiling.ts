// What a provider's refusal of `max_tokens` says the largest allowed value is. The CLI asks for 32000–128000 and
// the provider table clamps to a provider-wide ceiling, but ceilings are per model: a lower one answers 400 with
// its limit in words. Pure: a message in, a ceiling or null out; unknown wording is null (the 400 goes on as is).

/**
 * `model`: the model's own ceiling, the same for every request (remembered per provider+model).
 * `context`: the context is the limit, so what is left for the answer is `contextTokens - inputTokens`, which the
 * provider counted for this request only.
 */
export type OutputCeiling =
  | { kind: 'model'; maxTokens: number }
  | { kind: 'context'; contextTokens: number; inputTokens: number };

const MODEL_CEILINGS: readonly RegExp[] = [
  // DeepSeek: "Invalid max_tokens value, the valid range of max_tokens is [1, 8192]"
  /valid range of max_tokens is \[\s*\d+\s*,\s*(\d+)\s*\]/i,
  // OpenAI: "max_tokens is too large: 32000. This model supports at most 16384 completion tokens, …"
  /supports at most (\d+) completion tokens/i,
  // Groq: "`max_tokens` must be less than or equal to `16384`, …", "max_tokens for `llama-3.1-8b-instant` must
  // be less than or equal to 8000", "max_completion_tokens must be less than or equal to 40960, …"
  /max_(?:completion_)?tokens`?(?: for `[^`]*`)? must be less than or equal to `?(\d+)/i,
];

const CONTEXT_CEILINGS: readonly RegExp[] = [
  // vLLM: "'max_tokens' or 'max_completion_tokens' is too large: 32000. This model's maximum context length is
  // 32768 tokens and your request has 9000 input tokens (32000 > 32768 - 9000)."
  /maximum context length is (\d+) tokens and your request has (\d+) input tokens/i,
  // OpenAI and older vLLM: "This model's maximum context length is 8192 tokens. However, you requested 41000
  // tokens (9000 in the messages, 32000 in the completion)."
  /maximum context length is (\d+) tokens\. However, you requested \d+ tokens \((\d+) in the messages, \d+ in the completion\)/i,
  // Text Generation Inference: "`inputs` tokens + `max_new_tokens` must be <= 32768. Given: 9000 `inputs`
  // tokens and 32000 `max_new_tokens`"
  /tokens \+ `max_new_tokens` must be <= (\d+)\. Given: (\d+) `inputs` tokens/i,
];

export function parseOutputCeiling(message: string): OutputCeiling | null {
  for (const pattern of MODEL_CEILINGS) {
    const match = pattern.exec(message);
    if (match) return { kind: 'model', maxTokens: Number(match[1]) };
  }
  for (const pattern of CONTEXT_CEILINGS) {
    const match = pattern.exec(message);
    if (match) return { kind: 'context', contextTokens: Number(match[1]), inputTokens: Number(match[2]) };
  }
  return null;
}

/** The largest `max_tokens` the ceiling allows (0 or less: the input alone fills the context). */
export function allowedOutput(ceiling: OutputCeiling): number {
  return ceiling.kind === 'model' ? ceiling.maxTokens : ceiling.contextTokens - ceiling.inputTokens;
}
