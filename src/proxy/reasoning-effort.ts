import type { ReasoningEffort } from '../providers.js';
import { isRecord, type Json, num, str } from './anthropic-types.js';

// How hard the CLI asked the model to think, as the low / medium / high that OpenAI-style providers take
// (`reasoning_effort` on NIM, `reasoning.effort` on OpenRouter). The CLI says it two ways (see the recorded
// requests in shared/reference/claude-cli-*): `output_config.effort` (low, medium, high, xhigh, max; 2.1.197
// sends high, 2.1.330 medium, both with `thinking: {type: 'adaptive'}`), and on older paths a budget,
// `thinking: {type: 'enabled', budget_tokens: N}`. The effort wins when both are there.

/**
 * Budget thresholds, the CLI's own thinking levels: "think" asked for 4 000 tokens and "think hard" for 10 000,
 * "ultrathink" for 31 999. So up to 4 000 is low, up to 10 000 medium, more is high.
 */
const LOW_UP_TO = 4_000;
const MEDIUM_UP_TO = 10_000;

/** Anthropic's two levels above high have no OpenAI-side equivalent but the top one. */
const FROM_EFFORT: Readonly<Record<string, ReasoningEffort>> = {
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'high',
  max: 'high',
};

/** The effort the request asks for, or undefined (thinking off, or nothing said: the provider's default holds). */
export function effortOf(request: Json): ReasoningEffort | undefined {
  const thinking = isRecord(request.thinking) ? request.thinking : undefined;
  if (thinking?.type === 'disabled') return undefined;
  const said = isRecord(request.output_config) ? str(request.output_config.effort) : undefined;
  const fromEffort = said === undefined ? undefined : FROM_EFFORT[said];
  if (fromEffort !== undefined) return fromEffort;
  const budget = num(thinking?.budget_tokens);
  if (budget === undefined) return undefined;
  return budget <= LOW_UP_TO ? 'low' : budget <= MEDIUM_UP_TO ? 'medium' : 'high';
}
