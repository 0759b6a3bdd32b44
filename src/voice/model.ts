import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Failure, fail } from './types.js';

// The ggml model file: where it lives, what to tell the user when it is missing, and a download (checksum
// verified) where the network allows.

export const MODEL_BASE_URL = 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main';

/**
 * SHA-1 of each published ggml model, as whisper.cpp lists them (models/README.md of the bundled whisper.cpp). A
 * download must match; a model not listed here is never downloaded, only named.
 */
export const MODEL_SHA1: Readonly<Record<string, string>> = {
  tiny: 'bd577a113a864445d4c299885e0cb97d4ba92b5f',
  'tiny.en': 'c78c86eb1a8faa21b369bcd33207cc90d64ae9df',
  base: '465707469ff3a37a2b9b8d8f89f2f99de7299dac',
  'base.en': '137c40403d78fd54d454da0f9bd998f78703390c',
  small: '55356645c2b361a969dfd0ef2c5a50d530afd8d5',
  'small.en': 'db8a495a91d927739e50b3fc1cc4c6b8f6c2d022',
  'small.en-tdrz': 'b6c6e7e89af1a35c08e6de56b66ca6a02a2fdfa1',
  medium: 'fd9727b6e1217c2f614f9b698455c4ffd82463b4',
  'medium.en': '8c30f0e44ce9560643ebd10bbe50cd20eafd3723',
  'large-v1': 'b1caaf735c4cc1429223d5a74f0f4d0b9b59a299',
  'large-v2': '0f4c8e34f21cf1a914c59d8b3ce882345ad349d6',
  'large-v2-q5_0': '00e39f2196344e901b3a2bd5814807a769bd1630',
  'large-v3': 'ad82bf6a9043ceed055076d0fd39f5f186ff8062',
  'large-v3-q5_0': 'e6e2ed78495d403bef4b7cff42ef4aaadcfea8de',
  'large-v3-turbo': '4af2b29d7ec73d781377bfd1758ca957a807e941',
  'large-v3-turbo-q5_0': 'e050f7970618a659205450ad97eb95a18d69c9ee',
};

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
  /** The SHA-1 the whole file must have; anything else is discarded. */
  sha1: string;
  /** Time allowed until the server answers, and for any pause between chunks. */
  stallTimeoutMs: number;
  onProgress: (receivedBytes: number, totalBytes: number | null) => void;
}

/** `final`: trying again would fetch the same wrong file (its checksum did not match). */
export type DownloadResult = { ok: true } | { ok: false; reason: string; final?: true };

/**
 * Streams to `<destination>.part` and renames at the end, so a failed download never looks like a model. A part
 * left by an earlier attempt is resumed with an HTTP Range request (a server that ignores it sends the whole
 * file again, which then replaces the part); a part is deleted only when the finished file's checksum is wrong.
 */
export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const partial = `${options.destination}.part`;
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), options.stallTimeoutMs);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), options.stallTimeoutMs);
  };
  try {
    const kept = await stat(partial).then(
      (s) => s.size,
      () => 0,
    );
    const response = await fetch(options.url, {
      signal: controller.signal,
      redirect: 'follow',
      headers: kept > 0 ? { range: `bytes=${kept}-` } : {},
    });
    if (response.status === 416) {
      // The part is not a prefix the server can continue: start afresh next time.
      await rm(partial, { force: true });
      return {
        ok: false,
        reason: 'HTTP 416 (the partial download did not fit the file): starting afresh next time',
      };
    }
    if (!response.ok || response.body === null) return { ok: false, reason: `HTTP ${response.status}` };
    const resumed =
      kept > 0 && response.status === 206 && continues(response.headers.get('content-range'), kept);
    const header = Number(response.headers.get('content-length'));
    const total = Number.isFinite(header) && header > 0 ? header + (resumed ? kept : 0) : null;
    await mkdir(resolve(options.destination, '..'), { recursive: true });
    const hash = createHash('sha1');
    let received = 0;
    if (resumed) {
      for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer);
      received = kept;
    }
    const body = Readable.fromWeb(response.body);
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      hash.update(chunk);
      touch();
      options.onProgress(received, total);
    });
    await pipeline(body, createWriteStream(partial, { flags: resumed ? 'a' : 'w' }));
    if (total !== null && received !== total)
      return { ok: false, reason: `got ${received} of ${total} bytes` };
    const sha1 = hash.digest('hex');
    if (sha1 !== options.sha1.toLowerCase()) {
      await rm(partial, { force: true });
      return {
        ok: false,
        reason: `the file's checksum is wrong (SHA-1 ${sha1}, expected ${options.sha1}): discarded`,
        final: true,
      };
    }
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
  }
}

/** `Content-Range: bytes <kept>-<end>/<size>`: the server continues exactly where the part ends. */
function continues(contentRange: string | null, kept: number): boolean {
  const start = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(contentRange?.trim() ?? '')?.[1];
  return start !== undefined && Number(start) === kept;
}
