import { createInterface } from 'node:readline';
import { createSessionEngine, type SessionEngineOptions } from '../../sessions/index.js';
import { createLogger } from '../../src/log.js';

// The engine in its own process, for the kill -9 and read-only-store tests. argv[2] is JSON
// { config, proxyUrl, childEnv, inheritedPath?, engineOptions? }.
// stdin: one JSON line per command: a task ({ prompt, origin, replyTo }), { op: 'link', nodeId, ref, role }
// (answered { kind: 'linked' }) or { op: 'close' }.
// stdout: one JSON line per submit result and per engine event, so the parent can act at a precise moment;
// { kind: 'ready' } once started, { kind: 'start-failed', message } if the start threw.
const setup: unknown = JSON.parse(process.argv[2] ?? '{}');
if (typeof setup !== 'object' || setup === null || !('config' in setup) || !('proxyUrl' in setup)) {
  throw new Error('usage: engine-child.ts <json setup>');
}
const { config, proxyUrl, childEnv, inheritedPath, engineOptions } = setup as {
  // Written by our own test a line above the spawn; a test-only child, so the shape is trusted.
  config: SessionEngineOptions['config'];
  proxyUrl: string;
  childEnv: Record<string, string>;
  inheritedPath?: string;
  engineOptions?: Pick<SessionEngineOptions, 'stopGraceMs' | 'storeBusyTimeoutMs' | 'storeRetryMs'>;
};
const engine = createSessionEngine({
  config,
  proxy: { url: proxyUrl, authToken: undefined },
  logger: createLogger('silent', []),
  childEnv,
  inheritedEnv: { PATH: inheritedPath ?? '/usr/local/bin:/usr/bin:/bin' },
  ...engineOptions,
});
const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
try {
  await engine.start();
} catch (error) {
  say({ kind: 'start-failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
engine.subscribe((node, event) => say({ kind: 'event', node, event }));
say({ kind: 'ready' });
for await (const line of createInterface({ input: process.stdin })) {
  const command: unknown = JSON.parse(line);
  const op = typeof command === 'object' && command !== null && 'op' in command ? command.op : null;
  if (op === 'close') {
    await engine.close();
    say({ kind: 'closed' });
    process.exit(0);
  }
  if (op === 'link') {
    const { nodeId, ref, role } = JSON.parse(line);
    await engine.linkMessage(nodeId, ref, role);
    say({ kind: 'linked' });
    continue;
  }
  say({ kind: 'submitted', result: await engine.submit(JSON.parse(line)) });
}
