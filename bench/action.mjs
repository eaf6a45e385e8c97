// Benchmark: the Action's main step as the runner starts it (node dist/main.js
// with INPUT_* and the runner's files), with a named mirror and nothing else
// to do (mirror: tuna, configure: pip, cache: false), against `node -e 0`
// beside it — the target is ≤ 2× (the bundle's load is the cost to beat).
// Also prints the bundle's size. Usage: node bench/action.mjs [rounds]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const rounds = Number(process.argv[2] ?? 15);
const root = path.resolve(import.meta.dirname, '..');
const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(INPUT_|GITHUB_|RUNNER_|PIP_)/.test(k)));

function timeOnce(argv, inputs) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tuna-bench-action-'));
  const files = {};
  for (const f of ['OUTPUT', 'ENV', 'STATE', 'PATH', 'STEP_SUMMARY']) writeFileSync((files[`GITHUB_${f}`] = path.join(dir, f)), '');
  const env = {
    ...clean,
    ...files,
    ...inputs,
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, '.config'),
    RUNNER_TEMP: dir,
    RUNNER_ENVIRONMENT: 'github-hosted',
    GITHUB_WORKSPACE: dir,
  };
  const t0 = process.hrtime.bigint();
  execFileSync(argv[0], argv.slice(1), { env, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const inputs = { INPUT_MIRROR: 'tuna', INPUT_CONFIGURE: 'pip', INPUT_CACHE: 'false', INPUT_GPUS: 'all', 'INPUT_PROBE-BUDGET-MS': '3000' };
const cases = {
  'node -e 0 (floor)': [[process.execPath, '-e', '0'], {}],
  'action main (mirror: tuna, configure: pip, cache: false)': [[process.execPath, path.join(root, 'dist/main.js')], inputs],
};
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const [argv, env] of Object.values(cases)) timeOnce(argv, env);
for (let i = 0; i < rounds; i++) for (const [name, [argv, env]] of Object.entries(cases)) samples[name].push(timeOnce(argv, env));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
console.log(`rounds: ${rounds} (median wall time, fresh process and temp home each)`);
for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(58)} ${v.toFixed(1).padStart(7)} ms`);
const [floor, main] = Object.values(m);
console.log(`ratio main / node -e 0: ${(main / floor).toFixed(2)}x (target ≤ 2x)`);
const size = (d) =>
  readdirSync(d, { recursive: true })
    .map((f) => path.join(d, String(f)))
    .filter((f) => statSync(f).isFile())
    .reduce((n, f) => n + statSync(f).size, 0);
const mainOnly = ['main.js'].map((f) => statSync(path.join(root, 'dist', f)).size)[0];
console.log(
  `bundle: dist/ ${(size(path.join(root, 'dist')) / 1024).toFixed(0)} KiB in all (main.js ${(mainOnly / 1024).toFixed(0)} KiB + chunks, loaded as needed)`,
);
