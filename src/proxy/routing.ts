import type { ModelRef, ProxyConfig } from '../config.js';

// Tier routing: a requested model naming opus / sonnet / haiku takes that tier's model (which may live on
// another provider); anything else takes the default. Each tier may name fallbacks, tried in order.

export type Tier = keyof ProxyConfig['models'];

export function tierOf(requested: string): Tier {
  const name = requested.toLowerCase();
  if (name.includes('opus')) return 'opus';
  if (name.includes('sonnet')) return 'sonnet';
  if (name.includes('haiku')) return 'haiku';
  return 'default';
}

/** The tier's model, then its fallbacks (each once, the tier's own model not again). */
export function routeChain(config: Pick<ProxyConfig, 'models' | 'fallbacks'>, requested: string): ModelRef[] {
  const tier = tierOf(requested);
  const chain = [config.models[tier]];
  for (const ref of config.fallbacks[tier]) {
    if (!chain.some((seen) => seen.provider === ref.provider && seen.model === ref.model)) chain.push(ref);
  }
  return chain;
}
