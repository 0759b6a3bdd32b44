import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTranscriber } from '../../src/voice/index.js';
import { isExecutable } from '../../src/voice/whisper-build.js';
import { whisperCliIn, whisperSourceDir } from '../../src/voice/whisper-cli.js';
import {
  hasTool,
  makeVoiceNote,
  memoryLogger,
  requireToolsInCi,
  tempDir,
  testdata,
  voiceConfig,
} from './helpers.js';

// The real whisper-cli (built by `npm run build:whisper`) with whisper.cpp's weightless test model: it runs the
// whole model and recognises nothing, which is exactly the "no speech" path a user can hit.

const cli = whisperCliIn(whisperSourceDir());
const missing = [
  ...((await isExecutable(cli)) ? [] : ['whisper-cli is not built (run npm run build:whisper)']),
  ...((await hasTool('ffmpeg')) ? [] : ['ffmpeg is not installed']),
  ...((await hasTool('espeak-ng')) ? [] : ['espeak-ng is not installed']),
];

requireToolsInCi(missing);

// Generous timeout: each run takes about a second alone, several while other suites share the two cores.
describe.skipIf(missing.length > 0)(
  `real whisper-cli, for-tests tiny model${missing.length ? ` (skipped: ${missing.join(', ')})` : ''}`,
  { timeout: 60_000 },
  () => {
    let dir: { path: string; remove: () => Promise<void> };
    let note: Uint8Array;
    beforeAll(async () => {
      dir = await tempDir('voice-real-');
      await copyFile(join(testdata, 'for-tests-ggml-tiny.bin'), join(dir.path, 'ggml-tiny.bin'));
      note = await makeVoiceNote(dir.path, 'Please run the tests and fix the one that fails.');
    });
    afterAll(() => dir.remove());

    it.each([
      ['ffmpeg', undefined],
      ['the built-in Ogg/Opus decoder', null],
    ] as const)(
      'an Ogg/Opus voice note decoded by %s runs through whisper-cli to "no speech"',
      async (_n, ffmpeg) => {
        const { logger, lines } = memoryLogger();
        const transcriber = createTranscriber(voiceConfig(dir.path), logger, {
          whisperCliPath: cli,
          ffmpegPath: ffmpeg,
        });
        const result = await transcriber.transcribe({
          data: note,
          mimeType: 'audio/ogg',
          fileName: 'voice.ogg',
        });
        expect(result).toEqual({
          ok: false,
          kind: 'no_speech',
          message: 'No speech was recognised in the voice note, so no task was started.',
        });
        // whisper-cli really ran on the decoded audio: the decoder used is in the log, no error from whisper.
        expect(lines.join('')).toContain(`"via":"${ffmpeg === null ? 'ogg-opus-decoder' : 'ffmpeg'}"`);
      },
    );

    it('a 16 kHz WAV goes to whisper-cli as it is', async () => {
      const { logger, lines } = memoryLogger();
      const transcriber = createTranscriber(voiceConfig(dir.path), logger, { whisperCliPath: cli });
      const data = new Uint8Array(await readFile(join(testdata, 'jfk.wav')));
      const result = await transcriber.transcribe({ data, mimeType: 'audio/wav', fileName: 'jfk.wav' });
      expect(result).toMatchObject({ ok: false, kind: 'no_speech' });
      expect(lines.join('')).toContain('"via":"as-is"');
    });

    it('a model file whisper-cli cannot load is named in the answer', async () => {
      const broken = await tempDir('voice-broken-');
      await writeFile(join(broken.path, 'ggml-tiny.bin'), 'not a ggml model');
      const { logger } = memoryLogger();
      const transcriber = createTranscriber(voiceConfig(broken.path), logger, { whisperCliPath: cli });
      const result = await transcriber.transcribe({
        data: note,
        mimeType: 'audio/ogg',
        fileName: 'voice.ogg',
      });
      await broken.remove();
      expect(result).toMatchObject({ ok: false, kind: 'model_missing' });
      expect(result.ok ? '' : result.message).toContain(
        `${join(broken.path, 'ggml-tiny.bin')} could not be loaded`,
      );
    });
  },
);
