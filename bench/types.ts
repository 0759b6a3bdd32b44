export interface BenchRow {
  /** proxy, sessions, render, voice … */
  part: string;
  name: string;
  value: number;
  unit: string;
  /** The target from the issue, in words, e.g. "< 2 ms". */
  target?: string;
  /** Whether the value meets the target (omitted when there is none). */
  ok?: boolean;
  note?: string;
}

/** Every `bench/*.bench.ts` default-exports one of these. */
export type Bench = () => Promise<BenchRow[]>;
