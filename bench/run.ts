import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './types.js';

// Runs every bench/*.bench.ts (or those named on the command line), prints one table, writes JSON.
const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => only.length === 0 || only.some((part) => name.startsWith(part)))
  .sort();

const rows: BenchRow[] = [];
for (const file of files) {
  const module: { default: Bench } = await import(pathToFileURL(join(here, file)).href);
  process.stderr.write(`running ${file} …\n`);
  rows.push(...(await module.default()));
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const header = ['part', 'measure', 'value', 'target', ''];
const table = rows.map((row) => [
  row.part,
  row.name,
  `${Number.isInteger(row.value) ? row.value : row.value.toFixed(2)} ${row.unit}`,
  row.target ?? '',
  row.ok === undefined ? '' : row.ok ? 'ok' : 'MISSED',
]);
const widths = header.map((_, column) =>
  Math.max(...[header, ...table].map((line) => (line[column] ?? '').length)),
);
const format = (line: string[]) => `| ${line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
process.stdout.write(`\n${machine}\n\n${format(header)}\n${format(widths.map((w) => '-'.repeat(w)))}\n`);
for (const line of table) process.stdout.write(`${format(line)}\n`);

const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2)}\n`,
);
process.stdout.write(`\nwrote ${join('bench', 'results', 'latest.json')}\n`);
