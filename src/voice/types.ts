// The transcriber contract, declared here so voice does not import platforms/. It is structurally identical to
// `Transcriber` in platforms/ports.ts; main.ts passes this one where the platforms expect theirs.

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

/** A failure on its way to becoming a `TranscriptionResult`; internal steps return these as values. */
export interface Failure {
  ok: false;
  kind: TranscriptionFailure;
  message: string;
}

export function fail(kind: TranscriptionFailure, message: string): Failure {
  return { ok: false, kind, message };
}
