// Tiny guards for reading the CLI's JSON lines without casts. Pure.

export type Rec = Record<string, unknown>;

export function record(value: unknown): Rec | null {
  return isRec(value) ? value : null;
}

function isRec(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function strOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
