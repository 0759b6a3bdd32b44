import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTranscriber } from '../../src/voice/index.js';
import { memoryLogger, stubWhisper, tempDir, testdata, voiceConfig } from './helpers.js';

// The speech model download as a user meets it: a fake model host on 127.0.0.1 that can cut a download off and
// honours HTTP Range, the stand-in whisper-cli (the model file is its script), and the status each waiting voice
// note is shown.

const wavNote = {
  data: new Uint8Array(readFileSync(join(testdata, 'jfk.wav'))),
  mimeType: 'audio/wav',
  fileName: 'jfk.wav',
};
// 200 KB: the stub reads it as JSON, the padding makes the download long enough to report progress.
const model = `${JSON.stringify({ text: 'heard after the download' })}${' '.repeat(200_000)}`;
const checksums = { tiny: createHash('sha1').update(model).digest('hex') };

interface Served {
  range: string | undefined;
  bytes: number;
}

let modelDir: { path: string; remove: () => Promise<void> };
let server: Server;
let served: Served[];
/** The first request gets this many bytes, then the connection drops; later ones are answered whole. */
let cutAfter: number | null;

function answer(request: IncomingMessage, response: import('node:http').ServerResponse): void {
  const range = request.headers.range;
  const record: Served = { range, bytes: 0 };
  served.push(record);
  const from = range === undefined ? 0 : Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0);
  const body = Buffer.from(model).subarray(from);
  response.writeHead(
    from > 0 ? 206 : 200,
    from > 0
      ? {
          'content-length': String(body.length),
          'content-range': `bytes ${from}-${model.length - 1}/${model.length}`,
        }
      : { 'content-length': String(body.length) },
  );
  const limit = cutAfter ?? body.length;
  cutAfter = null;
  // In 20 KB pieces, 10 ms apart: a download that takes a while, as a real one does.
  let offset = 0;
  const next = (): void => {
    if (offset >= limit) {
      if (limit < body.length) setTimeout(() => request.socket.destroy(), 50);
      else response.end();
      return;
    }
    const piece = body.subarray(offset, Math.min(offset + 20_000, limit));
    offset += piece.length;
    record.bytes += piece.length;
    response.write(piece);
    setTimeout(next, 10);
  };
  next();
}

beforeEach(async () => {
  modelDir = await tempDir('voice-model-');
  served = [];
  cutAfter = null;
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await modelDir.remove();
});

function transcriber() {
  const { port } = server.address() as AddressInfo;
  return createTranscriber(voiceConfig(modelDir.path), memoryLogger().logger, {
    whisperCliPath: stubWhisper,
    modelBaseUrl: `http://127.0.0.1:${port}/models`,
    modelChecksums: checksums,
    downloadStallMs: 5000,
  });
}

describe('speech model download', () => {
  it('a download cut off half way resumes where it stopped (HTTP Range) at the next voice note', async () => {
    const voice = transcriber();
    cutAfter = 100_000;
    const first = await voice.transcribe(wavNote);
    expect(first).toMatchObject({ ok: false, kind: 'model_missing' });
    expect(first.ok ? '' : first.message).toMatch(/automatic download failed/);
    const part = join(modelDir.path, 'ggml-tiny.bin.part');
    const kept = statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(100_000);

    expect(await voice.transcribe(wavNote)).toMatchObject({ ok: true, text: 'heard after the download' });
    expect(served.map((one) => one.range)).toEqual([undefined, `bytes=${kept}-`]);
    expect(served[1]?.bytes).toBe(model.length - kept);
    expect(await readFile(join(modelDir.path, 'ggml-tiny.bin'), 'utf8')).toBe(model);
    expect(existsSync(part)).toBe(false);
  });

  it('many voice notes waiting for the model share one download, and each is shown its progress', async () => {
    const voice = transcriber();
    const shown: string[][] = [[], [], []];
    const results = await Promise.all(
      shown.map((statuses) => voice.transcribe(wavNote, undefined, (status) => statuses.push(status))),
    );
    expect(results.map((result) => result.ok && result.text)).toEqual([
      'heard after the download',
      'heard after the download',
      'heard after the download',
    ]);
    expect(served).toHaveLength(1);
    for (const statuses of shown) {
      expect(statuses.at(-1)).toBe('Transcribing');
      const percents = statuses.filter((status) => status.startsWith('downloading speech model: '));
      expect(percents.length).toBeGreaterThan(3);
      expect(percents).toContain('downloading speech model: 100 %');
      expect(percents.some((status) => /: ([1-9]\d?) %$/.test(status))).toBe(true);
    }
  });

  it('a part the server cannot continue is dropped and the next voice note downloads afresh', async () => {
    const voice = transcriber();
    // A part longer than the file: the server answers 416 to its Range, as Hugging Face does.
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(modelDir.path, 'ggml-tiny.bin.part'), Buffer.alloc(model.length + 10));
    server.removeAllListeners('request');
    server.on('request', (request, response) => {
      if (request.headers.range !== undefined) {
        served.push({ range: request.headers.range, bytes: 0 });
        response.writeHead(416).end();
        return;
      }
      answer(request, response);
    });
    const first = await voice.transcribe(wavNote);
    expect(first.ok ? '' : first.message).toMatch(/automatic download failed: HTTP 416/);
    expect(await voice.transcribe(wavNote)).toMatchObject({ ok: true, text: 'heard after the download' });
    expect(served.map((one) => one.range)).toEqual([`bytes=${model.length + 10}-`, undefined]);
  });
});
