import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Failure, fail } from './types.js';

// The ggml model file: where it lives, what to tell the user when it is missing, and a best-effort download
// where the network allows.

export const MODEL_BASE_URL = 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main';

/** A name that can only ever form a file name inside modelDir. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function modelPath(modelDir: string, model: string): string {
  return resolve(modelDir, `ggml-${model}.bin`);
}

export async function modelExists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile() && s.size > 0,
    () => false,
  );
}

export function invalidModelName(model: string): Failure | null {
  if (MODEL_NAME.test(model)) return null;
  return fail(
    'model_missing',
    `WHISPER_MODEL "${model}" is not a model name; use one like tiny, base.en or large-v3-turbo.`,
  );
}

/** One sentence naming the missing file and the two ways to get it. */
export function missingModelMessage(modelDir: string, model: string, whisperSourceDir: string): string {
  const path = modelPath(modelDir, model);
  const absolute = join(whisperSourceDir, 'models', 'download-ggml-model.sh');
  // Relative to where the relay runs (the project root) when that is shorter and unambiguous.
  const near = relative(process.cwd(), absolute);
  const script = near.startsWith('..') ? absolute : near;
  return (
    `The speech model is missing: ${path} does not exist. ` +
    `Get it with \`sh ${script} ${model} ${resolve(modelDir)}\` or download ${MODEL_BASE_URL}/ggml-${model}.bin into ${resolve(modelDir)}.`
  );
}

export interface DownloadOptions {
  url: string;
  destination: string;
  /** Time allowed until the server answers, and for any pause between chunks. */
  stallTimeoutMs: number;
  onProgress: (receivedBytes: number, totalBytes: number | null) => void;
}

export type DownloadResult = { ok: true } | { ok: false; reason: string };

/** Streams to `<destination>.part` and renames at the end, so a failed download never looks like a model. */
export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const partial = `${options.destination}.part`;
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), options.stallTimeoutMs);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), options.stallTimeoutMs);
  };
  try {
    const response = await fetch(options.url, { signal: controller.signal, redirect: 'follow' });
    if (!response.ok || response.body === null) return { ok: false, reason: `HTTP ${response.status}` };
    const header = Number(response.headers.get('content-length'));
    const total = Number.isFinite(header) && header > 0 ? header : null;
    let received = 0;
    await mkdir(resolve(options.destination, '..'), { recursive: true });
    const body = Readable.fromWeb(response.body);
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      touch();
      options.onProgress(received, total);
    });
    await pipeline(body, createWriteStream(partial));
    if (total !== null && received !== total)
      return { ok: false, reason: `got ${received} of ${total} bytes` };
    await rename(partial, options.destination);
    return { ok: true };
  } catch (error) {
    const reason = controller.signal.aborted
      ? `no answer within ${options.stallTimeoutMs >= 1000 ? `${Math.round(options.stallTimeoutMs / 1000)} s` : `${options.stallTimeoutMs} ms`}`
      : error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    return { ok: false, reason };
  } finally {
    clearTimeout(timer);
    await rm(partial, { force: true });
  }
}
