import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatMegabytes } from '../common/index.js';
import type { VoiceConfig } from '../config.js';
import type { Logger } from '../log.js';
import { decodeToWav } from './decode.js';
import {
  type DownloadResult,
  downloadModel,
  invalidModelName,
  MODEL_BASE_URL,
  MODEL_SHA1,
  missingModelMessage,
  modelExists,
  modelPath,
} from './model.js';
import { createSlots } from './queue.js';
import { runTool } from './run-tool.js';
import { sniffContainer } from './sniff.js';
import { type Failure, fail, type Transcriber, type TranscriptionResult } from './types.js';
import { BUILD_COMMAND, type BuildResult, buildWhisperCli, isExecutable } from './whisper-build.js';
import { runWhisper, whisperCliIn, whisperSourceDir } from './whisper-cli.js';

export type { AudioInput, Transcriber, TranscriptionFailure, TranscriptionResult } from './types.js';

export interface TranscriberOptions {
  /** An explicit whisper-cli; when given and missing, nothing is built. Default: nodejs-whisper's build. */
  whisperCliPath?: string;
  /** undefined: `ffmpeg` if it runs; null: never ffmpeg (the built-in Ogg/Opus decoder instead). */
  ffmpegPath?: string | null;
  /** Default 25 MiB. */
  maxBytes?: number;
  /** Transcriptions running at once; the rest wait in order. Default 1. */
  concurrency?: number;
  /** Where a missing `ggml-<model>.bin` is fetched from; null never downloads. Default Hugging Face. */
  modelBaseUrl?: string | null;
  /** The SHA-1 a downloaded model must have, by model name. Default: whisper.cpp's published list. */
  modelChecksums?: Readonly<Record<string, string>>;
  /** How long a model download may wait for the server or between chunks. Default 10 s. */
  downloadStallMs?: number;
  /** whisper-cli `-t`; default min(4, cores). */
  threads?: number;
}

const DEFAULT_MAX_BYTES = 25 * 1024 * 1024;

const CANCELLED = 'Transcription cancelled.';
const INTERNAL = 'Transcription failed on the relay. Please try again or send text.';

/** Resolves with the promise's value, or null as soon as `signal` aborts (the work itself carries on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | null> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export function createTranscriber(
  config: VoiceConfig,
  logger: Logger,
  options: TranscriberOptions = {},
): Transcriber {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const slots = createSlots(options.concurrency ?? 1);
  const sourceDir = whisperSourceDir();
  const cliPath = options.whisperCliPath ?? whisperCliIn(sourceDir);
  const model = modelPath(config.modelDir, config.model);
  // WHISPER_AUTO_DOWNLOAD=false: the user is told which file to put where, nothing is fetched.
  const baseUrl = !config.autoDownload
    ? null
    : options.modelBaseUrl === undefined
      ? MODEL_BASE_URL
      : options.modelBaseUrl;
  const checksums = options.modelChecksums ?? MODEL_SHA1;

  // Each of these runs at most once at a time and is shared by every waiting transcription.
  let ffmpegProbe: Promise<string | null> | null =
    options.ffmpegPath === undefined ? null : Promise.resolve(options.ffmpegPath);
  let build: Promise<BuildResult> | null = null;
  let download: Promise<DownloadResult> | null = null;
  /** Why a download must not be tried again in this process (a file whose checksum was wrong). */
  let refusedDownload: string | null = null;
  /** The chats waiting for the download, each told its progress; and the last thing they were told. */
  const downloadWatchers = new Set<(status: string) => void>();
  let downloadStatus = 'downloading speech model: 0 %';

  function ffmpeg(): Promise<string | null> {
    ffmpegProbe ??= runTool('ffmpeg', ['-version']).then((outcome) => {
      const found = outcome.kind === 'exited' && outcome.exitCode === 0;
      logger.info(
        found
          ? 'voice notes decode with ffmpeg'
          : 'ffmpeg not found: Ogg/Opus voice notes use the built-in decoder, M4A/AAC/WebM cannot be read',
      );
      return found ? 'ffmpeg' : null;
    });
    return ffmpegProbe;
  }

  async function whisperReady(signal: AbortSignal | undefined): Promise<Failure | null> {
    if (await isExecutable(cliPath)) return null;
    if (options.whisperCliPath !== undefined) {
      return fail(
        'whisper_missing',
        `The speech recogniser is not installed: ${cliPath} does not exist. The operator can build it with \`${BUILD_COMMAND}\`.`,
      );
    }
    if (build === null) {
      logger.info(
        { sourceDir },
        'whisper-cli is not built yet: building it now (about 2 minutes on 2 cores)',
      );
      let reported = -10;
      build = buildWhisperCli({
        sourceDir,
        onProgress: (percent, line) => {
          if (percent === null) logger.info(line);
          else if (percent >= reported + 10) {
            reported = percent;
            logger.info({ percent }, `whisper-cli build ${percent}%`);
          }
        },
      })
        .catch(
          (error: unknown): BuildResult => ({
            ok: false,
            kind: 'failed',
            reason: error instanceof Error ? error.message : String(error),
          }),
        )
        .then((result) => {
          if (result.ok) logger.info({ binary: result.binary }, 'whisper-cli built');
          else
            logger.error({ reason: result.reason }, 'whisper-cli build failed; not retrying until restart');
          return result;
        });
    }
    const result = await untilAborted(build, signal);
    if (result === null) return fail('cancelled', CANCELLED);
    if (result.ok) return null;
    return fail(
      'whisper_missing',
      result.kind === 'failed'
        ? `The speech recogniser (whisper-cli) is not built and building it failed (details in the relay's log). The operator can run \`${BUILD_COMMAND}\`.`
        : result.reason,
    );
  }

  async function modelReady(
    signal: AbortSignal | undefined,
    onStatus: ((status: string) => void) | undefined,
  ): Promise<Failure | null> {
    const invalid = invalidModelName(config.model);
    if (invalid) return invalid;
    if (await modelExists(model)) return null;
    const missing = missingModelMessage(config.modelDir, config.model, sourceDir);
    if (baseUrl === null) return fail('model_missing', missing);
    const sha1 = checksums[config.model];
    if (sha1 === undefined) {
      return fail(
        'model_missing',
        `${missing} (No checksum is known for "${config.model}", so it is not downloaded automatically.)`,
      );
    }
    if (refusedDownload !== null) {
      return fail('model_missing', `${missing} (The automatic download failed: ${refusedDownload}.)`);
    }
    const url = `${baseUrl}/ggml-${config.model}.bin`;
    if (download === null) {
      logger.info({ url, model }, 'speech model missing: trying to download it');
      let reported = -1;
      let shown = '';
      downloadStatus = 'downloading speech model: 0 %';
      download = downloadModel({
        url,
        destination: model,
        sha1,
        stallTimeoutMs: options.downloadStallMs ?? 10_000,
        onProgress: (received, total) => {
          const status = `downloading speech model: ${total === null ? formatMegabytes(received) : `${Math.floor((received / total) * 100)} %`}`;
          if (status !== shown) {
            shown = status;
            downloadStatus = status;
            for (const watcher of downloadWatchers) watcher(status);
          }
          const step = total === null ? Math.floor(received / 2 ** 24) : Math.floor((received / total) * 10);
          if (step > reported) {
            reported = step;
            logger.info(
              { received, total },
              `model download ${total === null ? formatMegabytes(received) : `${step * 10}%`}`,
            );
          }
        },
      }).finally(() => {
        download = null;
      });
    }
    if (onStatus !== undefined) {
      downloadWatchers.add(onStatus);
      onStatus(downloadStatus);
    }
    const result = await untilAborted(download, signal).finally(() => {
      if (onStatus !== undefined) downloadWatchers.delete(onStatus);
    });
    if (result === null) return fail('cancelled', CANCELLED);
    if (result.ok) {
      onStatus?.('Transcribing');
      logger.info({ model }, 'speech model downloaded');
      return null;
    }
    logger.warn({ url, reason: result.reason }, 'speech model download failed');
    // The same wrong file would come again: say so from now on instead of fetching it for every voice note.
    if (result.final) refusedDownload = result.reason;
    return fail('model_missing', `${missing} (The automatic download failed: ${result.reason}.)`);
  }

  async function transcribe(
    audio: { data: Uint8Array; mimeType: string; fileName: string },
    signal: AbortSignal | undefined,
    onStatus: ((status: string) => void) | undefined,
  ): Promise<TranscriptionResult> {
    if (!config.enabled) {
      return fail(
        'disabled',
        'Voice notes are off on this relay (VOICE_NOTE_ENABLED=false). Please send text.',
      );
    }
    const size = audio.data.byteLength;
    if (size === 0) return fail('empty', 'The voice note is empty (0 bytes). Please record it again.');
    if (size > maxBytes) {
      return fail(
        'too_large',
        `The audio is too large (${formatMegabytes(size)}); the limit is ${formatMegabytes(maxBytes)}. Please send a shorter voice note.`,
      );
    }
    const container = sniffContainer(audio.data);
    if (container === null) {
      return fail(
        'not_audio',
        `"${audio.fileName}" is not audio the relay can read (Ogg/Opus, MP3, M4A, WAV or FLAC). Please send a voice note or text.`,
      );
    }
    const notReady = (await whisperReady(signal)) ?? (await modelReady(signal, onStatus));
    if (notReady) return notReady;

    const release = await slots.acquire(signal);
    if (release === null) return fail('cancelled', CANCELLED);
    let dir: string | null = null;
    try {
      dir = await mkdtemp(join(tmpdir(), 'relay-voice-'));
      const detail = (what: string) => (text: string) =>
        logger.warn({ fileName: audio.fileName, [what]: text }, `voice ${what} problem`);
      const ffmpegPath = await ffmpeg();
      const decodeStarted = performance.now();
      const decoded = await decodeToWav(audio.data, container, dir, {
        ffmpegPath,
        signal,
        onDetail: detail('decode'),
      });
      const decodeMs = performance.now() - decodeStarted;
      if (!decoded.ok) return decoded;
      if (signal?.aborted) return fail('cancelled', CANCELLED);
      const whispered = await runWhisper(
        {
          cliPath,
          modelPath: model,
          wavPath: decoded.path,
          language: config.language,
          gpu: config.device !== 'cpu',
          ...(options.threads ? { threads: options.threads } : {}),
        },
        signal,
        detail('whisper'),
      );
      if (!whispered.ok) return whispered;
      const timings = { decodeMs, whisperMs: whispered.durationMs };
      logger.info(
        { container, bytes: size, via: decoded.via, ...timings, chars: whispered.text.length },
        'transcribed',
      );
      if (whispered.text === '') {
        return fail('no_speech', 'No speech was recognised in the voice note, so no task was started.');
      }
      return { ok: true, text: whispered.text, timings };
    } finally {
      release();
      if (dir !== null) await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    maxBytes,
    async transcribe(audio, signal, onStatus) {
      try {
        const result = await transcribe(audio, signal, onStatus);
        if (!result.ok) logger.info({ kind: result.kind, fileName: audio.fileName }, 'transcription refused');
        return result;
      } catch (error) {
        // Only the unexpected lands here (a full disk, a bug): the user gets one sentence, the log the detail.
        logger.error({ err: error, fileName: audio.fileName }, 'transcription failed unexpectedly');
        return fail('failed', INTERNAL);
      }
    },
  };
}
