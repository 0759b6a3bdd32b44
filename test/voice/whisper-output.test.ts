import { describe, expect, it } from 'vitest';
import { parseWhisperOutput, whisperArgs } from '../../src/voice/whisper-cli.js';

describe('parseWhisperOutput', () => {
  it('joins timestamped segments into one sentence', () => {
    const stdout =
      '\n[00:00:00.000 --> 00:00:02.000]   Run the tests\n[00:00:02.000 --> 00:00:04.500]   and fix the failing one.\n';
    expect(parseWhisperOutput(stdout)).toBe('Run the tests and fix the failing one.');
  });

  it('reads -nt output (no timestamps) the same way', () => {
    expect(parseWhisperOutput(' Run the tests\n and fix them.\n')).toBe('Run the tests and fix them.');
  });

  it.each(['', '\n\n', '[00:00:00.000 --> 00:00:10.000]   [BLANK_AUDIO]\n', ' (silence)\n [Music]\n'])(
    'finds no speech in %j',
    (stdout) => {
      expect(parseWhisperOutput(stdout)).toBe('');
    },
  );
});

describe('whisperArgs', () => {
  const run = {
    cliPath: 'w',
    modelPath: '/m/ggml-base.bin',
    wavPath: '/t/a.wav',
    language: 'en',
    threads: 2,
  };
  it('passes model, audio, language and threads as separate arguments, and -ng on cpu', () => {
    expect(whisperArgs({ ...run, gpu: false })).toEqual([
      '-m',
      '/m/ggml-base.bin',
      '-f',
      '/t/a.wav',
      '-l',
      'en',
      '-t',
      '2',
      '-nt',
      '-ng',
    ]);
    expect(whisperArgs({ ...run, gpu: true })).not.toContain('-ng');
  });
});
