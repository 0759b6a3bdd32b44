// The one home of helpers every module may use; a leaf (it imports nothing of ours), so copies cannot drift.

export { type Clock, systemClock } from './clock.js';
export type {
  AudioInput,
  GatewayStatsSnapshot,
  LiveLimits,
  ProviderStats,
  ProxyStatsSnapshot,
  Transcriber,
  TranscriptionFailure,
  TranscriptionResult,
} from './contracts.js';
export { formatBytes, formatDuration, formatMegabytes, formatTokens, plural } from './format.js';
export { isRecord, type Json, num, numOrNull, record, records, str, strOrNull } from './json.js';
export { keylessRefusal, loopbackHost } from './keyless-access.js';
export { presentedKey, sameSecret } from './secrets.js';
