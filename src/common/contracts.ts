// Contracts that cross the import boundary: voice and the proxy provide them, the platforms consume them, and
// main.ts wires one to the other. Declared once, here, so neither side imports the other and the two cannot
// drift. Types only.

export interface AudioInput {
  data: Uint8Array;
  mimeType: string;
  fileName: string;
}

export type TranscriptionFailure =
  | 'disabled'
  | 'too_large'
  | 'not_audio'
  | 'empty'
  | 'decode_failed'
  | 'no_speech'
  | 'model_missing'
  | 'whisper_missing'
  | 'cancelled'
  | 'failed';

export type TranscriptionResult =
  | { ok: true; text: string; timings: { decodeMs: number; whisperMs: number } }
  /** `message` is a plain sentence for the user, e.g. which file or command is missing. */
  | { ok: false; kind: TranscriptionFailure; message: string };

export interface Transcriber {
  /** Attachments larger than this are refused before download. */
  readonly maxBytes: number;
  /** `onStatus`: what the user waits for before transcription can start ("downloading speech model: 48 %"). */
  transcribe(
    audio: AudioInput,
    signal?: AbortSignal,
    onStatus?: (status: string) => void,
  ): Promise<TranscriptionResult>;
}

/** A provider's rate limits right now (the free tiers' budget: NIM allows 40 requests a minute). */
export interface LiveLimits {
  /** Attempts inside the rolling window, of `windowLimit`. */
  windowUsed: number;
  windowLimit: number;
  windowMs: number;
  /** Streams open, of `maxConcurrency`. */
  active: number;
  maxConcurrency: number;
  /** Requests waiting for a stream. */
  waiting: number;
  /** How long a 429's cool-down still blocks every request. */
  coolDownMs: number;
}

export interface ProviderStats {
  provider: string;
  requests: number;
  errors: number;
  rateLimited: number;
  /** Requests this provider failed that a fallback (MODEL_FALLBACKS) answered or tried to. */
  fallbacks: number;
  inputTokens: number;
  outputTokens: number;
  /** Absent before the provider's first request. */
  live?: LiveLimits;
}

export interface ProxyStatsSnapshot {
  providers: ProviderStats[];
}

/** The API gateway's requests, for the chat `/stats`. */
export interface GatewayStatsSnapshot {
  active: number;
  queued: number;
  answered: number;
  failed: number;
  /** Time to a whole answer over the last requests answered, null before the first. */
  p50Ms: number | null;
  p95Ms: number | null;
}
