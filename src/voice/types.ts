import type { TranscriptionFailure } from '../common/index.js';

// The transcriber contract lives in the shared leaf (src/common/contracts.ts), where the platforms' port reads it.
export type {
  AudioInput,
  Transcriber,
  TranscriptionFailure,
  TranscriptionResult,
} from '../common/index.js';

/** A failure on its way to becoming a `TranscriptionResult`; internal steps return these as values. */
export interface Failure {
  ok: false;
  kind: TranscriptionFailure;
  message: string;
}

export function fail(kind: TranscriptionFailure, message: string): Failure {
  return { ok: false, kind, message };
}
