// Every run of `npm run bench` as data: one JSON line per run in docs/benchmarks/runs.jsonl (when, which
// commit, which host, every figure), and docs/benchmarks/runs.svg drawn from all of them.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo } from './settings.mjs';

const RUNS = join(repo, 'docs', 'benchmarks', 'runs.jsonl');
const CHART = join(repo, 'docs', 'benchmarks', 'runs.svg');
// Drawn per run: throughputs, and the ratio that carries across hosts.
const CHARTED = ['producer_eps', 'catchup_eps', 'sustained_eps', 'copy_ceiling_eps'];

/** The commit measured; `+` when the working tree differs from it (the runs' own record aside). */
function commitMeasured() {
  /** @param {string[]} args */
  const git = (...args) => spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).stdout.trim();
  const commit = git('rev-parse', '--short=7', 'HEAD');
  const changed = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)docs/benchmarks');
  return changed === '' ? commit : `${commit}+`;
}

/** Appends this run and redraws the chart. @param {Record<string, unknown>} results @param {Record<string, unknown>} host */
export async function recordRun(results, host) {
  appendFileSync(RUNS, `${JSON.stringify({ date: new Date().toISOString(), commit: commitMeasured(), host, ...results })}\n`);
  await drawRuns();
}

export async function drawRuns() {
  /** @type {Record<string, any>[]} */
  const runs = readFileSync(RUNS, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  /** @param {Record<string, any>} run */
  const label = (run) => `${run.date.slice(0, 16).replace('T', ' ')} ${run.commit}${run.quick ? ' (quick)' : ''}`;
  const values = runs.flatMap((run) =>
    CHARTED.filter((figure) => typeof run[figure] === 'number').map((figure) => ({
      run: label(run),
      host: run.host?.cpus ?? 'unknown',
      figure,
      value: run[figure],
    })),
  );
  const ratios = runs
    .filter((run) => typeof run.catchup_vs_copy_ceiling === 'number')
    .map((run) => ({ run: label(run), host: run.host?.cpus ?? 'unknown', ratio: run.catchup_vs_copy_ceiling }));
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  /** @type {import('vega-lite').TopLevelSpec} */
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'npm run bench, every recorded run (hosts differ 2–3×: compare runs of one host)',
    vconcat: [
      {
        width: 720,
        height: 240,
        data: { values },
        mark: { type: 'point', filled: true },
        encoding: {
          x: { field: 'run', type: 'ordinal', title: null, axis: { labelAngle: -50, labelLimit: 200 } },
          y: { field: 'value', type: 'quantitative', title: 'events/s (COPY: rows/s)' },
          color: { field: 'figure', type: 'nominal' },
          shape: { field: 'host', type: 'nominal', legend: { labelLimit: 240 } },
        },
      },
      {
        width: 720,
        height: 120,
        data: { values: ratios },
        mark: { type: 'point', filled: true },
        encoding: {
          x: { field: 'run', type: 'ordinal', title: null, axis: { labelAngle: -50, labelLimit: 200 } },
          y: { field: 'ratio', type: 'quantitative', title: 'catch-up ÷ COPY', scale: { domain: [0, 1] } },
          shape: { field: 'host', type: 'nominal' },
        },
      },
    ],
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  writeFileSync(CHART, await view.toSVG());
}
