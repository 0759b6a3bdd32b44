#!/usr/bin/env node
// A stand-in for `claude --permission-prompt-tool stdio` in fast engine tests, following the recorded 2.1.330
// control protocol (shared/reference/claude-cli-2.1.330/CONTROL-PROTOCOL.md): it asks for one Bash call, waits
// for the answer or an interrupt on stdin, prints the outcome, and exits only when stdin closes (like the real
// CLI in stream-json input mode: exit 1 if the last result was an error).
// Directives in the prompt:
//   [ask:background]  a background task runs: the first result comes while it runs, then the task asks a second
//                     time and a second result follows (the stdin must still be open for that answer)
//   [ask:silent]      print nothing at all after the prompt, so the run would hit the idle timeout
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';

if (process.argv[2] === '--version') {
  // As the real CLI answers it: the engine checks the version at start.
  process.stdout.write('2.1.330 (Claude Code)\n');
  process.exit(0);
}

const write = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const sessionId = randomUUID();
const lines = createInterface({ input: process.stdin });
const queue = [];
let waiting = null;
let closed = false;
lines.on('line', (line) => {
  if (waiting) {
    const resolve = waiting;
    waiting = null;
    resolve(line);
  } else queue.push(line);
});
lines.on('close', () => {
  closed = true;
  if (waiting) waiting(null);
});
const next = () =>
  queue.length > 0
    ? Promise.resolve(queue.shift())
    : closed
      ? Promise.resolve(null)
      : new Promise((r) => (waiting = r));

let lastIsError = false;
const result = (text, isError = false, index = 0) => {
  lastIsError = isError;
  write({
    type: 'result',
    subtype: isError ? 'error_during_execution' : 'success',
    is_error: isError,
    result: isError ? null : text,
    result_index: index,
    session_id: sessionId,
    total_cost_usd: 0.0001,
    usage: { input_tokens: 1, output_tokens: 1 },
  });
};

/** Asks once; returns the decision text, or null after an interrupt (the turn is over). */
async function ask(requestId, command) {
  write({
    type: 'control_request',
    request_id: requestId,
    request: {
      subtype: 'can_use_tool',
      tool_name: 'Bash',
      display_name: 'Bash',
      input: { command, description: 'test' },
      description: 'test',
      tool_use_id: `toolu_${requestId}`,
    },
  });
  for (;;) {
    const line = await next();
    if (line === null) return 'stream closed';
    const message = JSON.parse(line);
    if (message.type === 'control_request' && message.request?.subtype === 'interrupt') {
      write({ type: 'control_cancel_request', request_id: requestId });
      write({ type: 'control_response', response: { subtype: 'success', request_id: message.request_id } });
      return null;
    }
    if (message.type === 'control_response' && message.response?.request_id === requestId) {
      const answer = message.response.response;
      return answer.behavior === 'allow'
        ? `allowed ${answer.updatedInput?.command}`
        : `denied: ${answer.message}`;
    }
  }
}

const first = JSON.parse(await next());
const prompt = first.message.content.map((block) => block.text ?? '').join('');
if (!prompt.includes('[ask:silent]')) {
  write({ type: 'system', subtype: 'init', session_id: sessionId, cwd: process.cwd(), model: 'fake' });
  const background = prompt.includes('[ask:background]');
  if (background) {
    write({ type: 'system', subtype: 'background_tasks_changed', tasks: [{ task_id: 't1' }] });
  }
  const decision = await ask('req-1', 'echo one');
  if (decision === null) {
    result(null, true);
  } else {
    result(`first: ${decision}`);
    if (background) {
      const later = await ask('req-2', 'echo two');
      write({ type: 'system', subtype: 'background_tasks_changed', tasks: [] });
      result(`second: ${later}`, false, 1);
    }
  }
}
// Like the real CLI with stdin open: wait for more turns until stdin closes.
while ((await next()) !== null) {}
process.exit(lastIsError ? 1 : 0);
