#!/usr/bin/env node
// Stands in for whisper-cli where a test needs text: no real model weights exist on this machine. It takes the
// same arguments. Its "model" (-m) is a JSON script, {"text": "...", "waitForRelease": true}; it refuses any
// other model the way whisper-cli does. It appends each run's pid and arguments to <modelDir>/runs.log, checks the
// audio (-f) is the 16 kHz mono 16-bit PCM WAV the relay must hand over, and with waitForRelease stays running
// until <modelDir>/release exists, so tests can observe a running and a queued transcription.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
const option = (flag) => {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
};
const modelPath = option('-m') ?? '';
const wavPath = option('-f') ?? '';

let script;
try {
  script = JSON.parse(readFileSync(modelPath, 'utf8'));
} catch {
  process.stderr.write(
    'whisper_model_load: invalid model data (bad magic)\nerror: failed to initialize whisper context\n',
  );
  process.exit(3);
}
const dir = dirname(modelPath);
appendFileSync(join(dir, 'runs.log'), `${JSON.stringify({ pid: process.pid, args })}\n`);

function isWhisperWav(bytes) {
  if (
    bytes.length < 44 ||
    bytes.toString('ascii', 0, 4) !== 'RIFF' ||
    bytes.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    return false;
  }
  const format = bytes.readUInt16LE(20);
  const channels = bytes.readUInt16LE(22);
  const rate = bytes.readUInt32LE(24);
  const bits = bytes.readUInt16LE(34);
  return format === 1 && channels === 1 && rate === 16000 && bits === 16;
}

if (!existsSync(wavPath) || !isWhisperWav(readFileSync(wavPath))) {
  // Like the real one: an unreadable file is reported on stderr and the exit code stays 0.
  process.stderr.write(
    `read_audio_data: failed to read audio data\nerror: failed to read audio file '${wavPath}'\n`,
  );
  process.exit(0);
}

if (script.waitForRelease) {
  while (!existsSync(join(dir, 'release'))) await new Promise((resolve) => setTimeout(resolve, 20));
}
for (const line of [].concat(script.text ?? [])) {
  process.stdout.write(`\n[00:00:00.000 --> 00:00:02.000]  ${line}\n`);
}
