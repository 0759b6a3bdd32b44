import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VoiceConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/log.js';
import { runTool } from '../../src/voice/run-tool.js';
import { WHISPER_TESTDATA_DIR } from '../shared-dir.js';

export { requireToolsInCi } from '../require-tools.js';

// Shared by the voice tests: where the test data lives, which tools this machine has, and voice notes made on
// the spot with espeak-ng and ffmpeg (never committed).

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const testdata = WHISPER_TESTDATA_DIR;
export const stubWhisper = join(root, 'test/fakes/whisper-stub.mjs');

export async function hasTool(name: string): Promise<boolean> {
  const outcome = await runTool(name, name === 'ffmpeg' ? ['-version'] : ['--version']);
  return outcome.kind === 'exited' && outcome.exitCode === 0;
}

export function voiceConfig(modelDir: string, overrides: Partial<VoiceConfig> = {}): VoiceConfig {
  return {
    enabled: true,
    autoDownload: true,
    model: 'tiny',
    modelDir,
    device: 'cpu',
    language: 'en',
    ...overrides,
  };
}

/** A logger whose lines the test can read. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger('info', [], { write: (line) => void lines.push(line) }), lines };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Speech by espeak-ng, encoded the way Telegram and Discord send voice notes: Ogg/Opus, 48 kHz mono. */
export async function makeVoiceNote(dir: string, words: string): Promise<Uint8Array> {
  const wav = join(dir, 'speech.wav');
  const ogg = join(dir, 'voice.ogg');
  const said = await runTool('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', wav, words]);
  if (said.kind !== 'exited' || said.exitCode !== 0)
    throw new Error(`espeak-ng failed: ${JSON.stringify(said)}`);
  const args = ['-nostdin', '-loglevel', 'error', '-y', '-i', wav, '-c:a', 'libopus', '-b:a', '32k'];
  const encoded = await runTool('ffmpeg', [...args, '-ac', '1', '-ar', '48000', '-application', 'voip', ogg]);
  if (encoded.kind !== 'exited' || encoded.exitCode !== 0)
    throw new Error(`ffmpeg failed: ${JSON.stringify(encoded)}`);
  return new Uint8Array(await readFile(ogg));
}

/** The same note with everything after its identification page overwritten by seeded noise. */
export function damage(note: Uint8Array, from: number): Uint8Array {
  const copy = note.slice();
  let seed = 20261123;
  for (let i = from; i < copy.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    copy[i] = seed & 0xff;
  }
  return copy;
}

export async function writeStubModel(
  modelDir: string,
  script: { text?: string | string[]; waitForRelease?: boolean },
) {
  await writeFile(join(modelDir, 'ggml-tiny.bin'), JSON.stringify(script));
}
