// Guards for reading foreign JSON (the CLI's lines, request bodies, provider chunks) without casts. Pure.

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown): Json | null {
  return isRecord(value) ? value : null;
}

/** The string, or undefined: callers that want a default say so (`str(x) ?? ''`). */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A finite number, or undefined. */
export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** For fields where absent and empty mean different things. */
export function strOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function numOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
