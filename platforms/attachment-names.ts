// Pure helpers for attachments: a sender's file name made safe to save, and sizes as a person reads them.

/** Longest saved name, in UTF-16 units; most file systems allow 255 bytes, and non-Latin names take more. */
const MAX_NAME_LENGTH = 100;
const FALLBACK_NAME = 'file';

/**
 * A file name that can only ever name a file directly inside the folder it is joined to: no path separators
 * (the last path segment is kept, as browsers do), no `..`, no leading dots (nothing hidden, no `.bashrc`), no
 * control or shell-hostile characters; the extension survives shortening. Never empty.
 */
export function toSafeFileName(raw: string): string {
  const lastSegment = raw.split(/[\\/]/).at(-1) ?? '';
  const cleaned = lastSegment
    .normalize('NFC')
    // Control and format characters (a right-to-left override can disguise `exe` as `txt`), and characters
    // Windows or a shell line would trip over.
    .replace(/[\p{Cc}\p{Cf}<>:"|?*`$]/gu, '_')
    .replace(/\s+/g, ' ')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.\s-]+/, '')
    .replace(/[.\s]+$/, '');
  const name = shorten(cleaned);
  return name === '' ? FALLBACK_NAME : name;
}

function shorten(name: string): string {
  const points = [...name];
  if (points.length <= MAX_NAME_LENGTH) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? [...name.slice(dot)].slice(0, 16).join('') : '';
  const stem = [...(dot > 0 ? name.slice(0, dot) : name)].slice(0, MAX_NAME_LENGTH - extension.length);
  return `${stem.join('').replace(/[.\s]+$/, '')}${extension}`;
}

/** `name.ext` → `name-2.ext`: a second file of the same name in one message. */
export function numberedName(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)}-${n}${name.slice(dot)}` : `${name}-${n}`;
}
