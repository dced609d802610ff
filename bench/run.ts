/**
 * `npm run bench`: runs every benchmark module in bench/ (each `*.ts` file other than this one
 * whose default export is a BenchModule), side by side with the established server it is
 * compared to, and prints one table with the ratios.
 *
 *   node bench/run.ts [name ...]     only the modules whose name contains one of the words
 *
 * A module measures Commune and, when the reference server is installed, the reference on the
 * same data with the same client; without the reference it reports Commune alone and says
 * why. Performance is checked here, never by timed assertions in tests.
 */

import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

/** One measured case. */
export interface BenchRow {
  /** What was measured, e.g. "bind+search". */
  readonly case: string;
  /** Unit of the values, e.g. "ops/s". */
  readonly unit: string;
  readonly commune: number;
  /** The reference server's figure on the same case, when it ran. */
  readonly reference?: number;
  /** True when more is better (throughput); false for latencies. */
  readonly higherIsBetter: boolean;
  /** Anything worth printing under the table (errors, parameters). */
  readonly note?: string;
}

export interface BenchResult {
  /** The reference server's name, e.g. "OpenLDAP slapd 2.5 (mdb)". */
  readonly reference: string;
  /** Why the reference did not run, if it did not. */
  readonly referenceSkipped?: string;
  readonly rows: readonly BenchRow[];
  /** Set-up facts to print (data size, concurrency, parameters). */
  readonly notes?: readonly string[];
}

export interface BenchModule {
  /** Short name, e.g. "ldap". */
  readonly name: string;
  run(): Promise<BenchResult>;
}

function isBenchModule(value: unknown): value is BenchModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as BenchModule).name === 'string' &&
    typeof (value as BenchModule).run === 'function'
  );
}

function format(n: number): string {
  if (!Number.isFinite(n)) return '-';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
    .join('  ');
}

/** The results as a plain-text table (ratio = Commune / reference, "x" better when > 1). */
export function renderTable(results: readonly (BenchResult & { module: string })[]): string {
  const header = ['benchmark', 'unit', 'Commune', 'reference', 'ratio'];
  const lines: string[][] = [];
  const notes: string[] = [];
  for (const r of results) {
    for (const row of r.rows) {
      const ratio =
        row.reference === undefined || row.reference === 0 || row.commune === 0
          ? '-'
          : `${(row.higherIsBetter ? row.commune / row.reference : row.reference / row.commune).toFixed(2)}x`;
      lines.push([
        `${r.module}: ${row.case}`,
        row.unit,
        format(row.commune),
        row.reference === undefined ? '-' : format(row.reference),
        ratio,
      ]);
      if (row.note !== undefined) notes.push(`${r.module}: ${row.case}: ${row.note}`);
    }
    notes.push(
      r.referenceSkipped === undefined
        ? `${r.module}: reference is ${r.reference}`
        : `${r.module}: ${r.reference} not run: ${r.referenceSkipped}`,
    );
    for (const n of r.notes ?? []) notes.push(`${r.module}: ${n}`);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [
    pad(header, widths),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...lines.map((l) => pad(l, widths)),
    '',
    'ratio: how many times better Commune is than the reference (> 1: Commune is ahead)',
    ...notes,
  ].join('\n');
}

async function main(filters: readonly string[]): Promise<void> {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
    .sort();
  // step: a filter that is a bench module's whole name picks it alone ("dav", not "caldav")
  const modules = new Set(files.map((f) => f.slice(0, -'.ts'.length)));
  const wanted = (filter: string, name: string): boolean =>
    modules.has(filter) ? name === filter : name.includes(filter);
  const results: (BenchResult & { module: string })[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default?: unknown };
    if (!isBenchModule(mod.default)) continue;
    const bench = mod.default;
    if (filters.length > 0 && !filters.some((f) => wanted(f, bench.name))) continue;
    process.stderr.write(`bench ${bench.name}: running\n`);
    const started = Date.now();
    const result = await bench.run();
    process.stderr.write(
      `bench ${bench.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    results.push({ ...result, module: bench.name });
  }
  if (results.length === 0) {
    process.stderr.write('no benchmark matched\n');
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${renderTable(results)}\n`);
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  });
}
