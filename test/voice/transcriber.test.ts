import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Transcriber as PortTranscriber } from '../../src/common/index.js';
import { createTranscriber, type TranscriptionResult } from '../../src/voice/index.js';
import {
  damage,
  hasTool,
  makeVoiceNote,
  memoryLogger,
  requireToolsInCi,
  stubWhisper,
  tempDir,
  testdata,
  voiceConfig,
  writeStubModel,
} from './helpers.js';

// The transcriber end to end with a stand-in whisper-cli (test/fakes/whisper-stub.mjs) that prints known text:
// the real one transcribes nothing with the weightless test models (see real-whisper.test.ts for that path).

const jfk = new Uint8Array(readFileSync(join(testdata, 'jfk.wav')));
const wavNote = { data: jfk, mimeType: 'audio/wav', fileName: 'jfk.wav' };
const missingTools = [
  ...((await hasTool('ffmpeg')) ? [] : ['ffmpeg']),
  ...((await hasTool('espeak-ng')) ? [] : ['espeak-ng']),
];
const tools = missingTools.length === 0;
requireToolsInCi(missingTools);

let modelDir: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  modelDir = await tempDir('voice-model-');
});
afterEach(async () => {
  await modelDir.remove();
});

function stubTranscriber(
  options: Parameters<typeof createTranscriber>[2] = {},
  config = voiceConfig(modelDir.path),
) {
  const log = memoryLogger();
  return {
    ...log,
    transcriber: createTranscriber(config, log.logger, { whisperCliPath: stubWhisper, ...options }),
  };
}

async function runs(): Promise<Array<{ pid: number; args: string[] }>> {
  const path = join(modelDir.path, 'runs.log');
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

/** Polls until `check` holds; the bound (generous, for a loaded machine) only keeps a broken build from hanging the suite. */
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('text path (stub whisper-cli)', () => {
  it('is the Transcriber the platforms expect (checked by tsc)', () => {
    const transcriber: PortTranscriber = stubTranscriber().transcriber;
    expect(transcriber.maxBytes).toBe(25 * 1024 * 1024);
  });

  it('turns a 16 kHz WAV into the spoken text, passes the configured language, and leaves no temp files', async () => {
    await writeStubModel(modelDir.path, { text: ['Run the tests', 'and fix the failing one.'] });
    const { transcriber } = stubTranscriber();
    const result = await transcriber.transcribe(wavNote);
    expect(result).toMatchObject({ ok: true, text: 'Run the tests and fix the failing one.' });
    const [run] = await runs();
    expect(run?.args).toEqual(
      expect.arrayContaining(['-l', 'en', '-ng', '-m', join(modelDir.path, 'ggml-tiny.bin')]),
    );
    const wavPath = run?.args[run.args.indexOf('-f') + 1] ?? '';
    expect(existsSync(dirname(wavPath))).toBe(false);
  });

  it('lets whisper.cpp pick the device when WHISPER_DEVICE is cuda', async () => {
    await writeStubModel(modelDir.path, { text: 'hello' });
    const { transcriber } = stubTranscriber({}, voiceConfig(modelDir.path, { device: 'cuda' }));
    expect(await transcriber.transcribe(wavNote)).toMatchObject({ ok: true, text: 'hello' });
    expect((await runs())[0]?.args).not.toContain('-ng');
  });

  it('refuses when voice notes are off', async () => {
    const { transcriber } = stubTranscriber({}, voiceConfig(modelDir.path, { enabled: false }));
    expect(await transcriber.transcribe(wavNote)).toMatchObject({
      ok: false,
      kind: 'disabled',
      message: expect.stringContaining('VOICE_NOTE_ENABLED=false'),
    });
  });

  describe.skipIf(!tools)(
    `Ogg/Opus voice notes${tools ? '' : ' (skipped: ffmpeg or espeak-ng is not installed)'}`,
    () => {
      let work: { path: string; remove: () => Promise<void> };
      let note: Uint8Array;
      beforeAll(async () => {
        work = await tempDir('voice-note-');
        note = await makeVoiceNote(work.path, 'Please run the tests');
      });
      afterAll(() => work.remove());

      it.each([
        ['ffmpeg', undefined],
        ['the built-in decoder (no ffmpeg)', null],
      ] as const)('decodes with %s into the WAV whisper-cli needs', async (_name, ffmpegPath) => {
        await writeStubModel(modelDir.path, { text: 'hello world' });
        const { transcriber } = stubTranscriber({ ffmpegPath });
        const result = await transcriber.transcribe({
          data: note,
          mimeType: 'audio/ogg',
          fileName: 'voice.ogg',
        });
        expect(result).toMatchObject({ ok: true, text: 'hello world' });
      });

      it.each([
        ['ffmpeg', undefined],
        ['the built-in decoder', null],
      ] as const)('calls a damaged voice note damaged with %s', async (_name, ffmpegPath) => {
        await writeStubModel(modelDir.path, { text: 'hello world' });
        const { transcriber } = stubTranscriber({ ffmpegPath });
        const result = await transcriber.transcribe({
          data: damage(note, 200),
          mimeType: 'audio/ogg',
          fileName: 'voice.ogg',
        });
        expect(result).toMatchObject({
          ok: false,
          kind: 'decode_failed',
          message: expect.stringMatching(/damaged/),
        });
        expect(await runs()).toEqual([]);
      });
    },
  );
});

describe('bad input gets its own answer and the transcriber keeps serving', () => {
  const corruptOgg = new Uint8Array([
    ...Buffer.from('OggS'),
    ...new Array<number>(24).fill(0),
    ...Buffer.from('OpusHead'),
    ...damage(new Uint8Array(4000), 0),
  ]);
  const cases: Array<[string, Uint8Array, string, RegExp]> = [
    ['a corrupt Ogg', corruptOgg, 'decode_failed', /could not be decoded.*damaged/],
    ['a 0-byte file', new Uint8Array(0), 'empty', /empty \(0 bytes\)/],
    [
      'an over-size file',
      new Uint8Array(2_000_000).fill(1),
      'too_large',
      /too large \(1\.9 MB\).*limit is 1\.0 MB/,
    ],
    [
      'a PNG',
      new Uint8Array([0x89, ...Buffer.from('PNG\r\n\x1a\n'), 0, 0, 0, 13]),
      'not_audio',
      /"input" is not audio/,
    ],
    ['a text file', new Uint8Array(Buffer.from('fix the tests please')), 'not_audio', /"input" is not audio/],
  ];

  it.each(cases)('%s', async (_name, data, kind, message) => {
    await writeStubModel(modelDir.path, { text: 'still here' });
    const { transcriber } = stubTranscriber({ ffmpegPath: null, maxBytes: 1024 * 1024 });
    const result = await transcriber.transcribe({ data, mimeType: 'audio/ogg', fileName: 'input' });
    expect(result).toMatchObject({ ok: false, kind, message: expect.stringMatching(message) });
    expect(await transcriber.transcribe(wavNote)).toMatchObject({ ok: true, text: 'still here' });
  });

  it.skipIf(!tools)('a corrupt Ogg through ffmpeg', async () => {
    await writeStubModel(modelDir.path, { text: 'still here' });
    const { transcriber, lines } = stubTranscriber();
    const result = await transcriber.transcribe({
      data: corruptOgg,
      mimeType: 'audio/ogg',
      fileName: 'input',
    });
    expect(result).toMatchObject({ ok: false, kind: 'decode_failed' });
    expect(lines.join('')).toContain('ffmpeg exited with');
    expect(await transcriber.transcribe(wavNote)).toMatchObject({ ok: true, text: 'still here' });
  });
});

describe('queue and cancellation', () => {
  it('cancels a queued transcription without running it, then a running one by killing whisper-cli', async () => {
    await writeStubModel(modelDir.path, { text: 'third', waitForRelease: true });
    const { transcriber } = stubTranscriber({ concurrency: 1 });
    const first = new AbortController();
    const second = new AbortController();
    const running = transcriber.transcribe(wavNote, first.signal);
    await until(async () => (await runs()).length === 1, 'the first run to start');
    const queued = transcriber.transcribe(wavNote, second.signal);

    second.abort();
    expect(await queued).toEqual({ ok: false, kind: 'cancelled', message: 'Transcription cancelled.' });
    const [firstRun] = await runs();
    expect(firstRun && alive(firstRun.pid)).toBe(true);

    first.abort();
    expect(await running).toMatchObject({ ok: false, kind: 'cancelled' });
    await until(() => !alive(firstRun?.pid ?? 0), 'the killed whisper-cli to exit');

    await writeFile(join(modelDir.path, 'release'), '');
    expect(await transcriber.transcribe(wavNote)).toMatchObject({ ok: true, text: 'third' });
    expect(await runs()).toHaveLength(2);
  });

  it('runs two at once with concurrency 2', async () => {
    await writeStubModel(modelDir.path, { text: 'both', waitForRelease: true });
    const { transcriber } = stubTranscriber({ concurrency: 2 });
    const results = [transcriber.transcribe(wavNote), transcriber.transcribe(wavNote)];
    await until(async () => (await runs()).length === 2, 'both runs to start before either finishes');
    await writeFile(join(modelDir.path, 'release'), '');
    const done: TranscriptionResult[] = await Promise.all(results);
    expect(done.map((result) => result.ok && result.text)).toEqual(['both', 'both']);
  });
});

describe('missing pieces tell the user exactly what to do', () => {
  it('names the missing model file and how to get it', async () => {
    const { transcriber } = stubTranscriber({ modelBaseUrl: null });
    const result = await transcriber.transcribe(wavNote);
    expect(result).toMatchObject({ ok: false, kind: 'model_missing' });
    const message = result.ok ? '' : result.message;
    expect(message).toContain(join(modelDir.path, 'ggml-tiny.bin'));
    expect(message).toMatch(/download-ggml-model\.sh tiny /);
    expect(message).toContain('https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-tiny.bin');
  });

  it('refuses a model name that could escape the model directory', async () => {
    const { transcriber } = stubTranscriber({}, voiceConfig(modelDir.path, { model: '../secrets' }));
    expect(await transcriber.transcribe(wavNote)).toMatchObject({
      ok: false,
      kind: 'model_missing',
      message: expect.stringContaining('not a model name'),
    });
  });

  it('names whisper-cli and the build command when it is not built', async () => {
    await writeStubModel(modelDir.path, { text: 'x' });
    const missing = join(modelDir.path, 'no-such-whisper-cli');
    const { transcriber } = stubTranscriber({ whisperCliPath: missing });
    const result = await transcriber.transcribe(wavNote);
    expect(result).toMatchObject({ ok: false, kind: 'whisper_missing' });
    expect(result.ok ? '' : result.message).toMatch(new RegExp(`${missing}.*npm run build:whisper`));
  });

  describe('model download (fake model host on 127.0.0.1)', () => {
    let server: Server;
    let baseUrl: string;
    const model = JSON.stringify({ text: 'downloaded and heard' });
    let served = 0;
    beforeAll(async () => {
      server = createServer((request, response) => {
        if (request.url === '/silent/ggml-tiny.bin') return; // accepts, never answers
        if (request.url === '/models/ggml-tiny.bin') served++;
        if (request.url !== '/models/ggml-tiny.bin') {
          response.writeHead(404).end('not found');
          return;
        }
        response.writeHead(200, { 'content-length': String(model.length) });
        // Two chunks, so progress is reported along the way.
        response.write(model.slice(0, 10));
        setTimeout(() => response.end(model.slice(10)), 20);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );

    const checksums = { tiny: createHash('sha1').update(model).digest('hex') };

    it('downloads a missing model with progress in the log, checks its SHA-1, then transcribes', async () => {
      const { transcriber, lines } = stubTranscriber({
        modelBaseUrl: `${baseUrl}/models`,
        modelChecksums: checksums,
      });
      expect(await transcriber.transcribe(wavNote)).toMatchObject({ ok: true, text: 'downloaded and heard' });
      expect(await readFile(join(modelDir.path, 'ggml-tiny.bin'), 'utf8')).toBe(model);
      expect(existsSync(join(modelDir.path, 'ggml-tiny.bin.part'))).toBe(false);
      expect(lines.join('')).toMatch(/model download 100%/);
    });

    it('a download whose checksum is wrong is discarded, the user is told why, and it is not fetched again', async () => {
      const { transcriber } = stubTranscriber({
        modelBaseUrl: `${baseUrl}/models`,
        modelChecksums: { tiny: '0000000000000000000000000000000000000000' },
      });
      const result = await transcriber.transcribe(wavNote);
      expect(result).toMatchObject({ ok: false, kind: 'model_missing' });
      expect(result.ok ? '' : result.message).toMatch(
        /automatic download failed: the file's checksum is wrong/,
      );
      expect(existsSync(join(modelDir.path, 'ggml-tiny.bin'))).toBe(false);
      expect(existsSync(join(modelDir.path, 'ggml-tiny.bin.part'))).toBe(false);
      const fetched = served;
      const again = await transcriber.transcribe(wavNote);
      expect(again.ok ? '' : again.message).toMatch(
        /automatic download failed: the file's checksum is wrong/,
      );
      expect(served).toBe(fetched);
    });

    it('a model with no published checksum, or WHISPER_AUTO_DOWNLOAD=false, is named but never fetched', async () => {
      const unlisted = stubTranscriber({ modelBaseUrl: `${baseUrl}/models`, modelChecksums: {} });
      const refused = await unlisted.transcriber.transcribe(wavNote);
      expect(refused.ok ? '' : refused.message).toMatch(
        /ggml-tiny\.bin does not exist.*No checksum is known for "tiny"/,
      );
      const off = stubTranscriber(
        { modelBaseUrl: `${baseUrl}/models`, modelChecksums: checksums },
        voiceConfig(modelDir.path, { autoDownload: false }),
      );
      const told = await off.transcriber.transcribe(wavNote);
      expect(told).toMatchObject({ ok: false, kind: 'model_missing' });
      expect(told.ok ? '' : told.message).not.toMatch(/download failed|checksum/);
      expect(existsSync(join(modelDir.path, 'ggml-tiny.bin'))).toBe(false);
    });

    it('when the download fails, says so and still names the file to get', async () => {
      const { transcriber } = stubTranscriber({
        modelBaseUrl: `${baseUrl}/elsewhere`,
        modelChecksums: checksums,
      });
      const result = await transcriber.transcribe(wavNote);
      expect(result).toMatchObject({ ok: false, kind: 'model_missing' });
      expect(result.ok ? '' : result.message).toMatch(
        /ggml-tiny\.bin does not exist.*automatic download failed: HTTP 404/,
      );
      expect(existsSync(join(modelDir.path, 'ggml-tiny.bin'))).toBe(false);
    });

    it('gives up on a host that never answers and says so', async () => {
      const { transcriber } = stubTranscriber({
        modelBaseUrl: `${baseUrl}/silent`,
        modelChecksums: checksums,
        downloadStallMs: 200,
      });
      const result = await transcriber.transcribe(wavNote);
      expect(result).toMatchObject({ ok: false, kind: 'model_missing' });
      expect(result.ok ? '' : result.message).toMatch(/automatic download failed: no answer within 200 ms/);
    });
  });
});
