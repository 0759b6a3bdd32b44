import { createInterface } from 'node:readline';
import { createSessionEngine } from '../../sessions/index.js';
import { createLogger } from '../../src/log.js';

// The engine in its own process, for the kill -9 restart test. argv[2] is JSON { config, proxyUrl, childEnv }.
// stdin: one JSON task per line ({ prompt, origin, replyTo }); stdout: one JSON line per submit result and per
// engine event, so the parent can kill this process at a precise moment.
const setup: unknown = JSON.parse(process.argv[2] ?? '{}');
if (typeof setup !== 'object' || setup === null || !('config' in setup) || !('proxyUrl' in setup)) {
  throw new Error('usage: engine-child.ts <json setup>');
}
const { config, proxyUrl, childEnv } = setup as {
  // Written by our own test a line above the spawn; a test-only child, so the shape is trusted.
  config: Parameters<typeof createSessionEngine>[0]['config'];
  proxyUrl: string;
  childEnv: Record<string, string>;
};
const engine = createSessionEngine({
  config,
  proxy: { url: proxyUrl, authToken: undefined },
  logger: createLogger('silent', []),
  childEnv,
  inheritedEnv: { PATH: '/usr/local/bin:/usr/bin:/bin' },
});
const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
await engine.start();
engine.subscribe((node, event) => say({ kind: 'event', node, event }));
say({ kind: 'ready' });
for await (const line of createInterface({ input: process.stdin })) {
  say({ kind: 'submitted', result: await engine.submit(JSON.parse(line)) });
}
