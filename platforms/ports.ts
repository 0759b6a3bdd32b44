// Ports the platforms need from parts they must not import (voice, proxy): main.ts wires the real ones in.

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
  transcribe(audio: AudioInput, signal?: AbortSignal): Promise<TranscriptionResult>;
}

export interface ProviderStats {
  provider: string;
  requests: number;
  errors: number;
  rateLimited: number;
  inputTokens: number;
  outputTokens: number;
  /** The provider's rate limits right now (the free tiers' budget: NIM allows 40 requests a minute). */
  live?: {
    windowUsed: number;
    windowLimit: number;
    windowMs: number;
    active: number;
    maxConcurrency: number;
    waiting: number;
    coolDownMs: number;
  };
}

export interface ProxyStatsSnapshot {
  providers: ProviderStats[];
}
