import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildWhisperCli } from '../../src/voice/whisper-build.js';
import { hasTool, requireToolsInCi, tempDir } from './helpers.js';

// The whole build takes ~90 s on 2 cores, so CI proves it by running `npm run build:whisper` (and the real
// whisper tests use its result); these cover the quick paths around it.

const cmake = await hasTool('cmake');
requireToolsInCi(cmake ? [] : ['cmake']);
let source: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  source = await tempDir('voice-build-');
});
afterEach(() => source.remove());

describe('buildWhisperCli', () => {
  it('skips the build when whisper-cli is already there', async () => {
    const bin = join(source.path, 'build', 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'whisper-cli'), '#!/bin/sh\n');
    await chmod(join(bin, 'whisper-cli'), 0o755);
    const progress: string[] = [];
    const result = await buildWhisperCli({
      sourceDir: source.path,
      onProgress: (_p, line) => progress.push(line),
    });
    expect(result).toEqual({ ok: true, binary: join(bin, 'whisper-cli'), built: false });
    expect(progress).toEqual([]);
  });

  it.skipIf(!cmake)('reports a failed configure with cmake’s own words', async () => {
    const progress: string[] = [];
    const result = await buildWhisperCli({
      sourceDir: source.path,
      onProgress: (_p, line) => progress.push(line),
    });
    expect(result).toMatchObject({ ok: false, kind: 'failed' });
    expect(result.ok ? '' : result.reason).toMatch(/configure step:[\s\S]*CMakeLists\.txt/);
    expect(progress).toEqual(['whisper.cpp: configure…']);
  });
});
