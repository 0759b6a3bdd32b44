import type { ModelRef, ProxyConfig } from '../config.js';

// Tier routing: a requested model naming opus / sonnet / haiku takes that tier's model (which may live on
// another provider); anything else takes the default.

export function routeModel(models: ProxyConfig['models'], requested: string): ModelRef {
  const name = requested.toLowerCase();
  if (name.includes('opus')) return models.opus;
  if (name.includes('sonnet')) return models.sonnet;
  if (name.includes('haiku')) return models.haiku;
  return models.default;
}
