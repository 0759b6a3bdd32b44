import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/log.js';
import { createTranscriber, type TranscriberOptions } from '../src/voice/index.js';
import { runTool } from '../src/voice/run-tool.js';
import { isExecutable } from '../src/voice/whisper-build.js';
import { whisperArgs, whisperCliIn, whisperSourceDir } from '../src/voice/whisper-cli.js';
import { WHISPER_TESTDATA_DIR } from '../test/shared-dir.js';
import type { BenchRow } from './types.js';

// Voice note arrival → answer with whisper.cpp's weightless base.en test model on jfk.wav (11 s), as a WAV and
// as the Ogg/Opus a chat app sends. whisper-cli's fixed work dominates; the relay's own overhead (checks, temp
// dir, decode, process bookkeeping) is the total minus whisper-cli's run. Download is the platforms' part.

const RUNS = 5;
const TARGET_MS = 150;
const testdata = WHISPER_TESTDATA_DIR;
/** What the model file is, in every row's name: its timings are not those of a real base.en. */
const MODEL_LABEL = 'weightless base.en test model';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** The decode and whisper times the transcriber logs; a "no speech" result carries no timings itself. */
function timingsFrom(lines: string[]): { decodeMs: number; whisperMs: number } | null {
  for (const line of lines.reverse()) {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) continue;
    const decodeMs = 'decodeMs' in parsed ? parsed.decodeMs : undefined;
    const whisperMs = 'whisperMs' in parsed ? parsed.whisperMs : undefined;
    if (typeof decodeMs === 'number' && typeof whisperMs === 'number') return { decodeMs, whisperMs };
  }
  return null;
}

export default async function voiceBench(): Promise<BenchRow[]> {
  const cli = whisperCliIn(whisperSourceDir());
  if (!(await isExecutable(cli))) {
    return [
      {
        part: 'voice',
        name: 'skipped',
        value: 0,
        unit: '',
        note: 'whisper-cli not built: npm run build:whisper',
      },
    ];
  }
  const dir = await mkdtemp(join(tmpdir(), 'voice-bench-'));
  try {
    await copyFile(join(testdata, 'for-tests-ggml-base.en.bin'), join(dir, 'ggml-base.en.bin'));
    const wav = new Uint8Array(await readFile(join(testdata, 'jfk.wav')));
    const ogg = join(dir, 'jfk.ogg');
    const args = [
      '-nostdin',
      '-loglevel',
      'error',
      '-i',
      join(testdata, 'jfk.wav'),
      '-c:a',
      'libopus',
      '-b:a',
      '32k',
    ];
    const encoded = await runTool('ffmpeg', [
      ...args,
      '-ac',
      '1',
      '-ar',
      '48000',
      '-application',
      'voip',
      ogg,
    ]);
    const hasFfmpeg = encoded.kind === 'exited' && encoded.exitCode === 0;
    const config = {
      enabled: true,
      autoDownload: false,
      model: 'base.en',
      modelDir: dir,
      device: 'cpu' as const,
      language: 'en',
    };

    const rows: BenchRow[] = [];
    // whisper-cli on its own, the baseline everything else is measured against.
    const alone: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const wavPath = join(testdata, 'jfk.wav');
      const run = {
        cliPath: cli,
        modelPath: join(dir, 'ggml-base.en.bin'),
        wavPath,
        language: 'en',
        gpu: false,
      };
      const outcome = await runTool(cli, whisperArgs(run));
      if (i > 0 && outcome.kind === 'exited') alone.push(outcome.durationMs);
    }
    rows.push({
      part: 'voice',
      name: `whisper-cli alone, jfk.wav, ${MODEL_LABEL}`,
      value: median(alone),
      unit: 'ms',
    });

    const inputs: Array<{ label: string; data: Uint8Array; options: TranscriberOptions }> = [
      { label: 'jfk.wav', data: wav, options: {} },
      ...(hasFfmpeg
        ? [
            { label: 'jfk.ogg via ffmpeg', data: new Uint8Array(await readFile(ogg)), options: {} },
            {
              label: 'jfk.ogg via built-in decoder',
              data: new Uint8Array(await readFile(ogg)),
              options: { ffmpegPath: null },
            },
          ]
        : []),
    ];
    for (const input of inputs) {
      const lines: string[] = [];
      const logger = createLogger('info', [], { write: (line) => void lines.push(line) });
      const transcriber = createTranscriber(config, logger, { whisperCliPath: cli, ...input.options });
      const total: number[] = [];
      const decode: number[] = [];
      const whisper: number[] = [];
      /** What the model made of the note, each run: the row says it, so a figure is never read as a real one. */
      const outcomes = new Set<string>();
      for (let i = 0; i <= RUNS; i++) {
        lines.length = 0;
        const started = performance.now();
        const result = await transcriber.transcribe({
          data: input.data,
          mimeType: 'audio/ogg',
          fileName: input.label,
        });
        outcomes.add(
          result.ok ? `${result.text.length} characters transcribed` : `no transcript (${result.kind})`,
        );
        const elapsed = performance.now() - started;
        const timings = timingsFrom(lines);
        // The first run warms caches (WASM compile, page cache) and is not counted.
        if (i === 0 || timings === null) continue;
        total.push(elapsed);
        decode.push(timings.decodeMs);
        whisper.push(timings.whisperMs);
      }
      const overhead = total.map((value, i) => value - (whisper[i] ?? 0));
      const did = [...outcomes].join(' / ');
      const row = (name: string, values: number[]) => ({
        part: 'voice',
        name: `${input.label}, ${MODEL_LABEL} (${did}): ${name}`,
        value: median(values),
        unit: 'ms',
      });
      rows.push(row('arrival → answer', total), row('decode', decode), row('whisper-cli', whisper));
      rows.push({
        ...row('relay overhead beyond whisper-cli', overhead),
        target: `< ${TARGET_MS} ms`,
        ok: median(overhead) < TARGET_MS,
        note: `median of ${overhead.length} runs`,
      });
    }
    if (!hasFfmpeg)
      rows.push({ part: 'voice', name: 'Ogg rows skipped', value: 0, unit: '', note: 'no ffmpeg' });
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
