import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkOggPages } from './ogg-pages.js';
import { runTool, tail } from './run-tool.js';
import { type AudioContainer, containerLabel, whisperReadsDirectly } from './sniff.js';
import { type Failure, fail } from './types.js';
import { encodeWav, isWhisperReadyWav, parseWavFormat, toMono16k, WHISPER_RATE } from './wav.js';

// Turns the received bytes into a file whisper-cli reads, inside the caller's private temp dir: ffmpeg when
// there is one, otherwise the WASM Opus decoder for Ogg/Opus (what Telegram and Discord send), otherwise the
// formats whisper-cli decodes itself.

export type DecodeResult = { ok: true; path: string; via: 'as-is' | 'ffmpeg' | 'ogg-opus-decoder' } | Failure;

export interface DecodeOptions {
  ffmpegPath: string | null;
  signal?: AbortSignal | undefined;
  /** Where tool failures are reported in detail; the user gets one plain sentence. */
  onDetail: (detail: string) => void;
}

const DAMAGED =
  'The voice note could not be decoded: the file looks damaged or incomplete. Please record it again or send text.';

const EXTENSIONS: Record<AudioContainer, string> = {
  'ogg-opus': 'ogg',
  'ogg-vorbis': 'ogg',
  'ogg-other': 'ogg',
  wav: 'wav',
  mp3: 'mp3',
  aac: 'aac',
  flac: 'flac',
  m4a: 'm4a',
  webm: 'webm',
};

export async function decodeToWav(
  data: Uint8Array,
  container: AudioContainer,
  dir: string,
  options: DecodeOptions,
): Promise<DecodeResult> {
  const wav = container === 'wav' ? parseWavFormat(data) : null;
  if (wav && isWhisperReadyWav(wav)) {
    const path = join(dir, 'audio.wav');
    await writeFile(path, data);
    return { ok: true, path, via: 'as-is' };
  }
  if (options.ffmpegPath !== null) return decodeWithFfmpeg(data, container, dir, options.ffmpegPath, options);
  if (container === 'ogg-opus') return decodeOggOpus(data, dir, options);
  if (whisperReadsDirectly(container)) {
    const path = join(dir, `audio.${EXTENSIONS[container]}`);
    await writeFile(path, data);
    return { ok: true, path, via: 'as-is' };
  }
  return fail(
    'decode_failed',
    `This ${containerLabel(container)} audio needs ffmpeg, which is not installed on the relay's machine. ` +
      'Please send a voice note (Ogg/Opus) or text instead, or ask the operator to install ffmpeg.',
  );
}

async function decodeWithFfmpeg(
  data: Uint8Array,
  container: AudioContainer,
  dir: string,
  ffmpegPath: string,
  options: DecodeOptions,
): Promise<DecodeResult> {
  const input = join(dir, `input.${EXTENSIONS[container]}`);
  const output = join(dir, 'audio.wav');
  await writeFile(input, data);
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', input, '-vn'];
  args.push('-ar', String(WHISPER_RATE), '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav', '-y', output);
  const outcome = await runTool(ffmpegPath, args, { signal: options.signal });
  switch (outcome.kind) {
    case 'cancelled':
      return fail('cancelled', 'Transcription cancelled.');
    case 'not_found':
      // ffmpeg vanished after the probe: the WASM decoder still covers voice notes.
      options.onDetail(`ffmpeg not found at ${ffmpegPath}; using the built-in decoder`);
      return decodeToWav(data, container, dir, { ...options, ffmpegPath: null });
    case 'killed':
      options.onDetail(`ffmpeg killed by ${outcome.signal}: ${tail(outcome.stderr)}`);
      return fail('decode_failed', DAMAGED);
    case 'exited':
      if (outcome.exitCode !== 0) {
        options.onDetail(`ffmpeg exited with ${outcome.exitCode}: ${tail(outcome.stderr)}`);
        return fail('decode_failed', DAMAGED);
      }
  }
  // A truncated file can "decode" to a header and no samples; that is damage, not silence.
  const size = await stat(output).then(
    (s) => s.size,
    () => 0,
  );
  if (size <= 44) {
    options.onDetail('ffmpeg produced no audio samples');
    return fail('decode_failed', DAMAGED);
  }
  return { ok: true, path: output, via: 'ffmpeg' };
}

async function decodeOggOpus(data: Uint8Array, dir: string, options: DecodeOptions): Promise<DecodeResult> {
  const pages = checkOggPages(data);
  if (!pages.ok) {
    options.onDetail(`damaged Ogg: ${pages.problem}`);
    return fail('decode_failed', DAMAGED);
  }
  // Loaded at the first voice note that needs it (its WASM costs memory a relay without voice notes never uses).
  const { OggOpusDecoder } = await import('ogg-opus-decoder');
  const decoder = new OggOpusDecoder();
  let channels: Float32Array[];
  let sampleRate: number;
  try {
    await decoder.ready;
    const decoded = await decoder.decodeFile(data);
    if (decoded.errors.length > 0) {
      options.onDetail(
        `ogg-opus-decoder: ${decoded.errors.length} error(s), first: ${decoded.errors[0]?.message}`,
      );
    }
    channels = decoded.channelData;
    sampleRate = decoded.sampleRate;
  } catch (error) {
    options.onDetail(`ogg-opus-decoder threw: ${error instanceof Error ? error.message : String(error)}`);
    return fail('decode_failed', DAMAGED);
  } finally {
    decoder.free();
  }
  if (options.signal?.aborted) return fail('cancelled', 'Transcription cancelled.');
  const samples = toMono16k(channels, sampleRate);
  if (samples.length === 0) {
    options.onDetail('ogg-opus-decoder produced no audio samples');
    return fail('decode_failed', DAMAGED);
  }
  const path = join(dir, 'audio.wav');
  await writeFile(path, encodeWav(samples, WHISPER_RATE));
  return { ok: true, path, via: 'ogg-opus-decoder' };
}
