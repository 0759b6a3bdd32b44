#!/usr/bin/env node
// A stand-in for the `claude` CLI in fast engine tests: reads the stream-json prompt line from stdin, then
// replays a RECORDED stdout.jsonl of the real CLI (from shared/reference, never copied) with a delay per line.
// Directives inside the prompt choose the behaviour, so one engine can run different cases side by side:
//   [fake:run=<run name>]  replay that recording (default 21-partial-text)
//   [fake:delay=<ms>]      pause between lines (default FAKE_CLI_DELAY_MS or 2)
//   [fake:hang]            print init, then nothing until a signal
//   [fake:stubborn]        like hang, and ignore SIGINT/SIGTERM (only SIGKILL ends it)
//   [fake:exit-now]        print a line on stderr and exit 3 at once
//   [fake:spawn-child]     first start a child in the same process group that ignores SIGINT/SIGTERM (a stand-in
//                          for a Bash tool), logged as { event: 'child', childPid }
//   [fake:wait-file=<p>]   print init, then wait until file <p> exists before replaying the rest
//   [fake:garbage]         interleave non-JSON lines (a warning, a cut JSON object, control bytes) with the replay
//   [fake:truncate-exit=<code>]  replay all but the result line, print the start of it without a newline, exit <code>
// Like the real CLI: SIGINT prints an error_during_execution result and exits 0; SIGTERM exits 143.
// Each run gets a fresh session id unless it resumes without forking. Environment: FAKE_CLI_RUNS_DIR (where the
// recordings are), FAKE_CLI_LOG (a file that gets one JSON line per start and end, with pid, argv, cwd, prompt).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
if (args[0] === '--version') {
  // As the real CLI answers it (the engine checks it at start); FAKE_CLI_VERSION plays another version.
  process.stdout.write(`${process.env.FAKE_CLI_VERSION ?? '2.1.330'} (Claude Code)\n`);
  process.exit(0);
}
const log = (entry) => {
  if (process.env.FAKE_CLI_LOG) {
    appendFileSync(
      process.env.FAKE_CLI_LOG,
      `${JSON.stringify({ ...entry, pid: process.pid, t: Date.now() })}\n`,
    );
  }
};
const write = (line) => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

let prompt = '';
let sessionId = randomUUID();
const resumeAt = args.indexOf('--resume');
if (resumeAt !== -1 && !args.includes('--fork-session')) sessionId = args[resumeAt + 1];

function end(code) {
  log({ event: 'end', code });
  process.exit(code);
}

let stubborn = false;
process.on('SIGINT', () => {
  if (stubborn) return;
  write(
    JSON.stringify({
      type: 'result',
      subtype: 'error_during_execution',
      is_error: true,
      result: null,
      errors: ['[ede_diagnostic] result_type=user last_content_type=n/a stop_reason=null'],
      terminal_reason: 'aborted_streaming',
      session_id: sessionId,
      total_cost_usd: 0.0001,
      usage: { input_tokens: 1, output_tokens: 1 },
    }),
  );
  end(0);
});
process.on('SIGTERM', () => {
  if (!stubborn) end(143);
});

async function readPromptLine() {
  let buffered = '';
  for await (const chunk of process.stdin) {
    buffered += chunk;
    const newline = buffered.indexOf('\n');
    if (newline !== -1) {
      buffered = buffered.slice(0, newline);
      break;
    }
  }
  const message = JSON.parse(buffered);
  return message.message.content.map((block) => block.text ?? '').join('');
}

async function main() {
  prompt = await readPromptLine();
  log({
    event: 'start',
    args,
    cwd: process.cwd(),
    promptLength: prompt.length,
    prompt: prompt.slice(0, 200),
  });
  const directive = (name) => prompt.match(new RegExp(`\\[fake:${name}(?:=([^\\]]*))?\\]`));
  if (directive('exit-now')) {
    process.stderr.write('fake cli: failed at once\n');
    end(3);
  }
  const runsDir = process.env.FAKE_CLI_RUNS_DIR ?? '/work/shared/reference/claude-cli-2.1.330/runs';
  const run = directive('run')?.[1] ?? '21-partial-text';
  const delay = Number(directive('delay')?.[1] ?? process.env.FAKE_CLI_DELAY_MS ?? 2);
  const lines = readFileSync(join(runsDir, run, 'stdout.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean);
  const recordedId = lines.map((line) => JSON.parse(line).session_id).find((id) => typeof id === 'string');
  const rewrite = (line) => (recordedId ? line.split(recordedId).join(sessionId) : line);

  if (directive('stamp')) {
    // For the latency bench: text deltas whose text is the moment they were written (ms, sub-ms precision).
    write(rewrite(lines[0]));
    for (let i = 0; i < 50; i++) {
      const now = performance.timeOrigin + performance.now();
      write(
        JSON.stringify({
          type: 'stream_event',
          event: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: String(now) } },
          session_id: sessionId,
          parent_tool_use_id: null,
          api_message_id: 'msg_stamp',
        }),
      );
      await sleep(10);
    }
    end(0);
  }
  if (directive('spawn-child')) {
    const child = spawn(
      process.execPath,
      ['-e', "process.on('SIGINT',()=>{});process.on('SIGTERM',()=>{});setInterval(()=>{},60000)"],
      { stdio: 'ignore' },
    );
    log({ event: 'child', childPid: child.pid });
  }
  if (directive('hang') || directive('stubborn')) {
    stubborn = Boolean(directive('stubborn'));
    write(rewrite(lines[0]));
    setInterval(() => {}, 60_000);
    return;
  }
  const gate = directive('wait-file')?.[1];
  const truncate = directive('truncate-exit');
  const garbage = [
    'Warning: something odd happened (not JSON)',
    '{"type":"assistant","message":{"content":[{"type":"te',
    '\u0007\u001b[31mbinary-ish\u001b[0m',
  ];
  for (const [at, line] of lines.entries()) {
    if (truncate && at === lines.length - 1) {
      process.stdout.write(rewrite(line).slice(0, 60), () => end(Number(truncate[1] ?? 1)));
      return;
    }
    write(rewrite(line));
    if (at === 0 && gate) while (!existsSync(gate)) await sleep(20);
    if (directive('garbage') && at < garbage.length) write(garbage[at]);
    if (delay > 0) await sleep(delay);
  }
  const exitCode = Number(readFileSync(join(runsDir, run, 'exit_code'), 'utf8').trim() || '0');
  end(exitCode);
}

main().catch((error) => {
  process.stderr.write(`fake cli crashed: ${error.stack}\n`);
  end(70);
});
