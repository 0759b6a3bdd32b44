import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createWebPlatform } from '../platforms/index.js';
import { renderMarkdown } from '../platforms/render/index.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startProxy } from '../src/proxy/index.js';
import type { BenchRow } from './types.js';

// The web console's first paint on loopback, as a real Chromium sees it: the relay's proxy server with the
// console mounted (as main.ts wires it), holding 50 answered tasks, opened in a fresh page each run.

const RUNS = 10;
const TASKS = 50;
const CHROMIUM = '/usr/bin/chromium';

function answer(index: number): string {
  const rows = Array.from({ length: 8 }, (_, row) => `| item ${row} | ${row * index} |`).join('\n');
  return `**Task ${index}** done.\n\n| name | value |\n|---|---|\n${rows}\n\n\`\`\`ts\nconst total = ${index};\n\`\`\`\n\n${'The relay delivers every word. '.repeat(20)}`;
}

/** The page's globals this bench reads (its types know no DOM; the functions run in the page). */
interface PageGlobals {
  document: { querySelectorAll(selector: string): { length: number } };
  performance: { now(): number; getEntriesByName(name: string): Array<{ startTime: number }> };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export default async function consoleBench(): Promise<BenchRow[]> {
  if (!existsSync(CHROMIUM)) {
    return [
      { part: 'console', name: 'first paint of /ui/', value: Number.NaN, unit: 'ms', note: 'no chromium' },
    ];
  }
  const logger = createLogger('silent', []);
  const config = loadConfig({
    PORT: '0',
    PROVIDER_TYPE: 'openai',
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    MODEL: 'any',
  });
  const web = createWebPlatform({ config: { enabled: true, authToken: undefined }, logger });
  await web.start(() => {});
  for (let index = 0; index < TASKS; index++) {
    const { messageId } = await web.send('console', `task ${index}`, { formatted: false });
    const html = renderMarkdown(answer(index), web.limits)
      .map((part) => part.formatted)
      .join('');
    await web.send('console', html, { formatted: true, replyToMessageId: messageId });
  }
  const proxy = await startProxy({ config: config.proxy, logger, mounted: web.http });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  const paints: number[] = [];
  const shown: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${proxy.url}/ui/`);
      await page.waitForFunction(
        (count) =>
          (globalThis as unknown as PageGlobals).document.querySelectorAll('article').length === count,
        TASKS,
      );
      const timing = await page.evaluate(() => ({
        paint:
          (globalThis as unknown as PageGlobals).performance.getEntriesByName('first-contentful-paint')[0]
            ?.startTime ?? Number.NaN,
        now: (globalThis as unknown as PageGlobals).performance.now(),
      }));
      paints.push(timing.paint);
      shown.push(timing.now);
      await context.close();
    }
  } finally {
    await browser.close();
    await proxy.close();
    await web.stop();
  }
  const paint = median(paints);
  return [
    {
      part: 'console',
      name: 'first paint of /ui/ (loopback, median of 10)',
      value: paint,
      unit: 'ms',
      target: '< 300 ms',
      ok: paint < 300,
    },
    {
      part: 'console',
      name: `${TASKS} answered tasks shown after a fresh load (median of 10)`,
      value: median(shown),
      unit: 'ms',
    },
  ];
}
