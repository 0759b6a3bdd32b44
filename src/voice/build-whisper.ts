import { buildWhisperCli } from './whisper-build.js';
import { whisperSourceDir } from './whisper-cli.js';

// `npm run build:whisper`: builds whisper-cli once after `npm ci`; quick no-op when it is already built.

const started = Date.now();
let lastPercent = -1;
const result = await buildWhisperCli({
  sourceDir: whisperSourceDir(),
  onProgress: (percent, line) => {
    if (percent === null) {
      process.stdout.write(`${line}\n`);
    } else if (percent !== lastPercent) {
      lastPercent = percent;
      process.stdout.write(`[${String(percent).padStart(3)}%] ${line}\n`);
    }
  },
});
if (result.ok) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    result.built
      ? `whisper-cli built in ${seconds} s: ${result.binary}\n`
      : `whisper-cli already built: ${result.binary}\n`,
  );
} else {
  process.stderr.write(`build:whisper: ${result.reason}\n`);
  process.exitCode = 1;
}
