import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSessionEngine } from '../sessions/index.js';
import type { NodeSnapshot, SessionEngine } from '../sessions/types.js';
import { createLogger } from '../src/log.js';
import { fakeCliConfig } from '../test/sessions/harness.js';
import type { Bench, BenchRow } from './types.js';

// Session engine costs, measured against the replay fake CLI (test/fakes/cli-replay.mjs) so the numbers are the
// engine's, not the model's: submit → process spawned with a free slot, a CLI line → listener event, and the
// memory of an idle engine.

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function makeEngine(dir: string, onLog: (line: string) => void): SessionEngine {
  mkdirSync(join(dir, 'home'), { recursive: true });
  return createSessionEngine({
    config: fakeCliConfig(dir),
    proxy: { url: 'http://127.0.0.1:9', authToken: undefined },
    logger: createLogger('info', [], { write: onLog }),
    childEnv: { HOME: join(dir, 'home') },
    inheritedEnv: { PATH: `${resolve(process.execPath, '..')}:/usr/bin:/bin` },
  });
}

function finished(engine: SessionEngine, id: string): Promise<NodeSnapshot> {
  return new Promise((done) => {
    const off = engine.subscribe((node, event) => {
      if (node.id === id && event.type === 'state' && node.state !== 'running' && node.state !== 'queued') {
        off();
        done(node);
      }
    });
  });
}

const bench: Bench = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessions-bench-'));
  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  let spawnedAt = 0;
  const engine = makeEngine(dir, (line) => {
    if (line.includes('"CLI started"')) spawnedAt = performance.now();
  });
  const rows: BenchRow[] = [];
  try {
    await engine.start();
    const idleRss = process.memoryUsage().rss / 2 ** 20;

    const spawnTimes: number[] = [];
    for (let i = 0; i < 15; i++) {
      const before = performance.now();
      const result = await engine.submit({
        prompt: `hi ${i}`,
        origin: { platform: 'bench', chatId: 'c', messageId: `spawn-${i}` },
        replyTo: null,
      });
      if (result.kind !== 'accepted') throw new Error(result.reason);
      const end = finished(engine, result.node.id);
      while (spawnedAt < before) await new Promise((r) => setTimeout(r, 1));
      spawnTimes.push(spawnedAt - before);
      await end;
    }

    const latencies: number[] = [];
    const off = engine.subscribe((_node, event) => {
      if (event.type === 'text')
        latencies.push(performance.timeOrigin + performance.now() - Number(event.text));
    });
    const stamped = await engine.submit({
      prompt: 'stamps [fake:stamp]',
      origin: { platform: 'bench', chatId: 'c', messageId: 'stamp' },
      replyTo: null,
    });
    if (stamped.kind !== 'accepted') throw new Error(stamped.reason);
    await finished(engine, stamped.node.id);
    off();

    rows.push(
      {
        part: 'sessions',
        name: 'submit → CLI spawned (free slot), median of 15',
        value: median(spawnTimes),
        unit: 'ms',
        target: '< 50 ms',
        ok: median(spawnTimes) < 50,
        note: 'includes the SQLite write of the queued and running states',
      },
      {
        part: 'sessions',
        name: 'CLI stdout line → listener event, median of 50',
        value: median(latencies),
        unit: 'ms',
        target: '< 5 ms',
        ok: median(latencies) < 5,
      },
      {
        part: 'sessions',
        name: 'memory added by a started engine, no sessions (RSS)',
        value: Math.round(idleRss - rssBefore),
        unit: 'MB',
        target: '< 80 MB',
        ok: idleRss - rssBefore < 80,
        // sqlite3 loads at the store's opening now (lazily), so it is counted here, unless an earlier bench of the
        // same run loaded it: the process rows (process.bench.ts) are the figures of what users run.
        note: 'store opened; SQLite loaded by it unless an earlier bench in this run did',
      },
      {
        part: 'sessions',
        name: 'whole bench process RSS at that point',
        value: Math.round(idleRss),
        unit: 'MB',
        note: 'Node + tsx transpiler + every module of the bench run; for reference',
      },
    );
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
};

export default bench;
