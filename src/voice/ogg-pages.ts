// Checks an Ogg stream's page structure and CRCs. The WASM Opus decoder does not: it happily turns damaged pages
// into noise, whereas ffmpeg refuses them. Checking first makes both decoders call the same file damaged. Pure.

/** CRC-32 as Ogg defines it: polynomial 0x04c11db7, not reflected, initial value 0. */
function crcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
}

export type OggCheck = { ok: true; pages: number } | { ok: false; problem: string };

export function checkOggPages(bytes: Uint8Array): OggCheck {
  const table = crcTable();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pages = 0;
  let at = 0;
  while (at < bytes.length) {
    if (at + 27 > bytes.length) return { ok: false, problem: `truncated page header at byte ${at}` };
    if (view.getUint32(at) !== 0x4f676753) return { ok: false, problem: `no page at byte ${at}` };
    const segments = bytes[at + 26] ?? 0;
    const headerLength = 27 + segments;
    if (at + headerLength > bytes.length)
      return { ok: false, problem: `truncated segment table at byte ${at}` };
    let bodyLength = 0;
    for (let i = 0; i < segments; i++) bodyLength += bytes[at + 27 + i] ?? 0;
    const end = at + headerLength + bodyLength;
    if (end > bytes.length) return { ok: false, problem: `page ${pages} cut short at byte ${bytes.length}` };
    const stored = view.getUint32(at + 22, true);
    let crc = 0;
    for (let i = at; i < end; i++) {
      // The CRC field itself counts as zeros.
      const byte = i >= at + 22 && i < at + 26 ? 0 : (bytes[i] ?? 0);
      crc = ((crc << 8) ^ (table[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0;
    }
    if (crc !== stored) return { ok: false, problem: `page ${pages} at byte ${at} fails its CRC` };
    pages++;
    at = end;
  }
  return pages > 0 ? { ok: true, pages } : { ok: false, problem: 'no pages' };
}
