import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeToWav } from '../../src/voice/decode.js';
import { createTranscriber } from '../../src/voice/index.js';
import { sniffContainer } from '../../src/voice/sniff.js';
import { parseWavFormat } from '../../src/voice/wav.js';
import { memoryLogger, stubWhisper, tempDir, testdata, voiceConfig, writeStubModel } from './helpers.js';

// The built-in Ogg/Opus decoder with no ffmpeg anywhere: testdata/jfk-3s.ogg is the first 3 s of whisper.cpp's
// jfk.wav, encoded once as Telegram and Discord send voice notes (`ffmpeg -i jfk.wav -t 3 -c:a libopus -b:a 24k
// -ac 1 -ar 48000 -application voip`) and committed, so this test needs no tool.

const note = new Uint8Array(readFileSync(join(import.meta.dirname, 'testdata', 'jfk-3s.ogg')));
const original = new Uint8Array(readFileSync(join(testdata, 'jfk.wav')));

/** 16-bit PCM samples of a canonical 44-byte-header WAV, as floats. */
function samples(wav: Uint8Array, from = 44): Float32Array {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const out = new Float32Array((wav.byteLength - from) >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(from + 2 * i, true) / 32768;
  return out;
}

/** Loudness every 50 ms: what a listener hears as the rhythm of the words. */
function envelope(pcm: Float32Array, rate: number, seconds: number): number[] {
  const frame = rate / 20;
  const out: number[] = [];
  for (let start = 0; start + frame <= Math.min(pcm.length, rate * seconds); start += frame) {
    let sum = 0;
    for (let i = start; i < start + frame; i++) sum += (pcm[i] ?? 0) ** 2;
    out.push(Math.sqrt(sum / frame));
  }
  return out;
}

function correlation(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  const mean = (xs: number[]) => xs.slice(0, n).reduce((s, x) => s + x, 0) / n;
  const [ma, mb] = [mean(a), mean(b)];
  let [sab, saa, sbb] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const [da, db] = [(a[i] ?? 0) - ma, (b[i] ?? 0) - mb];
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

let work: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  work = await tempDir('opus-decoder-');
});
afterEach(() => work.remove());

describe('built-in Ogg/Opus decoder (no ffmpeg)', () => {
  it('turns a voice note into the 16 kHz mono WAV whisper reads, with the speech of the original', async () => {
    expect(sniffContainer(note)).toBe('ogg-opus');
    const details: string[] = [];
    const decoded = await decodeToWav(note, 'ogg-opus', work.path, {
      ffmpegPath: null,
      onDetail: (detail) => details.push(detail),
    });
    expect(decoded).toMatchObject({ ok: true, via: 'ogg-opus-decoder' });
    if (!decoded.ok) return;
    const wav = new Uint8Array(await readFile(decoded.path));
    expect(parseWavFormat(wav)).toMatchObject({ sampleRate: 16_000, channels: 1, bitsPerSample: 16 });
    const pcm = samples(wav);
    // 3 s, give or take the encoder's padding.
    expect(pcm.length / 16_000).toBeGreaterThan(2.9);
    expect(pcm.length / 16_000).toBeLessThan(3.1);
    // The same words: the loudness over time follows the original's closely (silence or noise would not).
    expect(correlation(envelope(pcm, 16_000, 3), envelope(samples(original), 16_000, 3))).toBeGreaterThan(
      0.9,
    );
    expect(details).toEqual([]);
  });

  it('is what the transcriber uses when ffmpeg is absent', async () => {
    await writeStubModel(work.path, { text: 'and so my fellow americans' });
    const transcriber = createTranscriber(voiceConfig(work.path), memoryLogger().logger, {
      whisperCliPath: stubWhisper,
      ffmpegPath: null,
    });
    const result = await transcriber.transcribe({ data: note, mimeType: 'audio/ogg', fileName: 'voice.ogg' });
    expect(result).toMatchObject({ ok: true, text: 'and so my fellow americans' });
  });
});
