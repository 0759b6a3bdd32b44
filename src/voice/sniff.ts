// Recognises audio containers by their magic bytes: the attachment's mime type and file name are set by the
// sender and cannot be trusted. Pure: no I/O.

export type AudioContainer =
  | 'ogg-opus'
  | 'ogg-vorbis'
  | 'ogg-other'
  | 'wav'
  | 'mp3'
  | 'aac'
  | 'flac'
  | 'm4a'
  | 'webm';

function ascii(bytes: Uint8Array, at: number, text: string): boolean {
  if (bytes.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[at + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** The container of `bytes`, or null when it is not audio we know. */
export function sniffContainer(bytes: Uint8Array): AudioContainer | null {
  if (ascii(bytes, 0, 'OggS')) {
    // The first page holds one packet, the codec's identification header, right after the 27-byte page header
    // and a one-entry segment table.
    if (ascii(bytes, 28, 'OpusHead')) return 'ogg-opus';
    if (ascii(bytes, 28, '\x01vorbis')) return 'ogg-vorbis';
    return 'ogg-other';
  }
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WAVE')) return 'wav';
  if (ascii(bytes, 0, 'fLaC')) return 'flac';
  if (ascii(bytes, 0, 'ID3')) return 'mp3';
  if (ascii(bytes, 4, 'ftyp')) return 'm4a';
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0xff && b1 !== undefined && (b1 & 0xe0) === 0xe0) {
    // Both MPEG audio and ADTS AAC start with an 11-bit sync word; ADTS has layer bits 00, MP3 never does.
    const layer = (b1 >> 1) & 0b11;
    return layer === 0 ? 'aac' : 'mp3';
  }
  return null;
}

/** Containers whisper-cli reads itself (through miniaudio / stb_vorbis) when there is no ffmpeg. */
export function whisperReadsDirectly(container: AudioContainer): boolean {
  return container === 'wav' || container === 'mp3' || container === 'flac' || container === 'ogg-vorbis';
}

/** A short name for messages: "M4A", "Ogg/Opus". */
export function containerLabel(container: AudioContainer): string {
  switch (container) {
    case 'ogg-opus':
      return 'Ogg/Opus';
    case 'ogg-vorbis':
      return 'Ogg/Vorbis';
    case 'ogg-other':
      return 'Ogg';
    case 'wav':
      return 'WAV';
    case 'mp3':
      return 'MP3';
    case 'aac':
      return 'AAC';
    case 'flac':
      return 'FLAC';
    case 'm4a':
      return 'M4A';
    case 'webm':
      return 'WebM';
    default: {
      const never: never = container;
      return never;
    }
  }
}
