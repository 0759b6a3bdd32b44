// 16 kHz mono PCM WAV: what whisper.cpp wants. Reading a header, mixing down, resampling and encoding. Pure.

export const WHISPER_RATE = 16_000;

export interface WavFormat {
  /** 1 = integer PCM, 3 = float, 0xfffe = extensible. */
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes of sample data declared by the `data` chunk (0 when absent). */
  dataBytes: number;
}

/** The `fmt ` chunk of a RIFF/WAVE file, or null when the header is not one. */
export function parseWavFormat(bytes: Uint8Array): WavFormat | null {
  if (bytes.length < 12) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  let format: Omit<WavFormat, 'dataBytes'> | null = null;
  let dataBytes = 0;
  // Chunks are [id, little-endian size, body padded to even length]; `fmt ` normally comes first, `data` last.
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ' && size >= 16 && at + 24 <= bytes.length) {
      format = {
        audioFormat: view.getUint16(at + 8, true),
        channels: view.getUint16(at + 10, true),
        sampleRate: view.getUint32(at + 12, true),
        bitsPerSample: view.getUint16(at + 22, true),
      };
    } else if (id === 'data') {
      dataBytes = Math.min(size, bytes.length - at - 8);
      break;
    }
    at += 8 + size + (size % 2);
  }
  return format === null ? null : { ...format, dataBytes };
}

/** Already exactly what whisper.cpp wants, so it can be handed over untouched. */
export function isWhisperReadyWav(format: WavFormat): boolean {
  return (
    format.audioFormat === 1 &&
    format.channels === 1 &&
    format.sampleRate === WHISPER_RATE &&
    format.bitsPerSample === 16 &&
    format.dataBytes > 0
  );
}

/** Averages the channels and resamples to 16 kHz. */
export function toMono16k(channels: readonly Float32Array[], sampleRate: number): Float32Array {
  const length = Math.min(...channels.map((channel) => channel.length));
  if (channels.length === 0 || length === 0 || sampleRate <= 0) return new Float32Array(0);
  const mono = new Float32Array(length);
  for (const channel of channels) {
    for (let i = 0; i < length; i++) mono[i] = (mono[i] ?? 0) + (channel[i] ?? 0) / channels.length;
  }
  return resample(mono, sampleRate, WHISPER_RATE);
}

function resample(input: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return input;
  const ratio = from / to;
  const out = new Float32Array(Math.floor(input.length / ratio));
  if (ratio > 1) {
    // Downsampling: each output sample is the mean of the input samples it covers, a box filter that keeps
    // most of what lies above the new Nyquist frequency from folding back into the speech band.
    for (let i = 0; i < out.length; i++) {
      const start = Math.floor(i * ratio);
      const end = Math.max(start + 1, Math.min(input.length, Math.floor((i + 1) * ratio)));
      let sum = 0;
      for (let j = start; j < end; j++) sum += input[j] ?? 0;
      out[i] = sum / (end - start);
    }
  } else {
    // Upsampling (8 kHz telephone audio): linear interpolation is enough for speech.
    for (let i = 0; i < out.length; i++) {
      const position = i * ratio;
      const left = Math.floor(position);
      const fraction = position - left;
      const a = input[left] ?? 0;
      const b = input[left + 1] ?? a;
      out[i] = a + (b - a) * fraction;
    }
  }
  return out;
}

/** A canonical 44-byte-header WAV of 16-bit little-endian PCM, mono. */
export function encodeWav(samples: Float32Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const writeTag = (at: number, text: string) => {
    for (let i = 0; i < 4; i++) bytes[at + i] = text.charCodeAt(i);
  };
  writeTag(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  writeTag(8, 'WAVE');
  writeTag(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  writeTag(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const clamped = Math.max(-1, Math.min(1, samples[i] ?? 0));
    view.setInt16(44 + i * 2, Math.round(clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff), true);
  }
  return bytes;
}
