import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkOggPages } from '../../src/voice/ogg-pages.js';
import { sniffContainer } from '../../src/voice/sniff.js';
import { encodeWav, isWhisperReadyWav, parseWavFormat, toMono16k } from '../../src/voice/wav.js';
import { WHISPER_TESTDATA_DIR } from '../shared-dir.js';

const jfk = new Uint8Array(readFileSync(join(WHISPER_TESTDATA_DIR, 'jfk.wav')));
const bytes = (...parts: Array<string | number[]>) =>
  new Uint8Array(
    parts.flatMap((part) => (typeof part === 'string' ? [...part].map((c) => c.charCodeAt(0)) : part)),
  );
const pad = (n: number) => new Array<number>(n).fill(0);

describe('sniffContainer', () => {
  it.each([
    ['Ogg/Opus voice note', bytes('OggS', pad(24), 'OpusHead'), 'ogg-opus'],
    ['Ogg/Vorbis', bytes('OggS', pad(24), '\x01vorbis'), 'ogg-vorbis'],
    ['WAV', jfk.subarray(0, 64), 'wav'],
    ['MP3 with ID3 tag', bytes('ID3', [4, 0]), 'mp3'],
    ['bare MP3 frame', bytes([0xff, 0xfb, 0x90, 0x64]), 'mp3'],
    ['ADTS AAC', bytes([0xff, 0xf1, 0x50, 0x80]), 'aac'],
    ['FLAC', bytes('fLaC', [0, 0, 0, 34]), 'flac'],
    ['M4A (Telegram audio, iPhone memo)', bytes([0, 0, 0, 0x20], 'ftypM4A '), 'm4a'],
    ['WebM', bytes([0x1a, 0x45, 0xdf, 0xa3]), 'webm'],
  ])('recognises %s', (_name, input, expected) => {
    expect(sniffContainer(input)).toBe(expected);
  });

  it.each([
    ['a PNG image', bytes([0x89], 'PNG\r\n\x1a\n')],
    ['a text file', bytes('please fix the tests\n')],
    ['a RIFF that is not WAVE (AVI)', bytes('RIFF', pad(4), 'AVI ')],
    ['nothing', new Uint8Array(0)],
  ])('refuses %s', (_name, input) => {
    expect(sniffContainer(input)).toBeNull();
  });
});

describe('WAV', () => {
  it('reads the header of a real 16 kHz mono file and takes it as ready for whisper', () => {
    const format = parseWavFormat(jfk);
    expect(format).toMatchObject({ audioFormat: 1, channels: 1, sampleRate: 16_000, bitsPerSample: 16 });
    expect(format && isWhisperReadyWav(format)).toBe(true);
  });

  it('encodes what it reads back: any samples survive the round trip within 16-bit precision', () => {
    fc.assert(
      fc.property(fc.float32Array({ min: -1, max: 1, noNaN: true, maxLength: 400 }), (samples) => {
        const wav = encodeWav(samples, 16_000);
        const format = parseWavFormat(wav);
        expect(format).toMatchObject({ channels: 1, sampleRate: 16_000, dataBytes: samples.length * 2 });
        const view = new DataView(wav.buffer);
        samples.forEach((sample, i) => {
          expect(Math.abs(view.getInt16(44 + i * 2, true) / 0x8000 - sample)).toBeLessThan(1e-3);
        });
      }),
      { seed: 20261123 },
    );
  });

  it('mixes stereo 48 kHz down to mono 16 kHz keeping a speech-band tone', () => {
    const tone = new Float32Array(48_000).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 48_000));
    const out = toMono16k([tone, tone], 48_000);
    expect(out.length).toBe(16_000);
    const peak = Math.max(...out.map(Math.abs));
    expect(peak).toBeGreaterThan(0.45);
    expect(peak).toBeLessThanOrEqual(0.5);
  });

  it('upsamples 8 kHz telephone audio to 16 kHz', () => {
    expect(toMono16k([new Float32Array(8_000)], 8_000).length).toBe(16_000);
  });
});

describe('checkOggPages', () => {
  // A minimal, valid one-page stream: CRC computed by an independent, bit-at-a-time implementation.
  function page(body: number[]): Uint8Array {
    const header = bytes('OggS', [0, 2], pad(8), [1, 0, 0, 0], pad(4), pad(4), [1, body.length]);
    const all = new Uint8Array([...header, ...body]);
    let crc = 0;
    for (const byte of all) {
      crc ^= byte << 24;
      for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    }
    new DataView(all.buffer).setUint32(22, crc >>> 0, true);
    return all;
  }

  it('accepts intact pages and names the damaged or cut one', () => {
    const good = page([...'OpusHead'].map((c) => c.charCodeAt(0)));
    expect(checkOggPages(good)).toEqual({ ok: true, pages: 1 });
    const flipped = good.slice();
    flipped[30] = (flipped[30] ?? 0) ^ 0x01;
    expect(checkOggPages(flipped)).toMatchObject({ ok: false, problem: expect.stringContaining('CRC') });
    expect(checkOggPages(good.subarray(0, good.length - 2))).toMatchObject({
      ok: false,
      problem: expect.stringContaining('cut short'),
    });
  });
});
