import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

// The project's read-only reference material (`shared/`) sits beside the checkout: `../shared` in CI and in
// the usual layout. The absolute fallback covers a checkout moved elsewhere on this machine.
const candidates = [resolve(import.meta.dirname, '../../shared'), '/work/shared'];

export const SHARED_DIR = candidates.find((dir) => existsSync(resolve(dir, 'reference'))) ?? candidates[0]!;
export const REFERENCE_DIR = resolve(SHARED_DIR, 'reference');
export const WHISPER_TESTDATA_DIR = resolve(SHARED_DIR, 'testdata/whisper');
