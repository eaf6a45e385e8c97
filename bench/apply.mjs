// Benchmark: how long `tuna-setup apply` takes as a user runs it (a fresh
// process writing real files in a temp home), against two baselines run
// beside it in the same script, interleaved so machine noise hits all alike:
//   - `pip config --user set global.index-url …`, the way chsrc and
//     oh-my-tuna point pip at a mirror (one tool, one key);
//   - `node -e 0`, the floor any Node CLI pays to start.
// Prints medians and ratios. Usage: node bench/apply.mjs [rounds]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const rounds = Number(process.argv[2] ?? 15);
const cli = path.resolve(import.meta.dirname, '../packages/cli/bin/tuna-setup.js');
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PIP_')));

function timeOnce(argv) {
  const home = mkdtempSync(path.join(tmpdir(), 'tuna-bench-'));
  const env = {
    ...baseEnv,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_STATE_HOME: path.join(home, '.state'),
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
  };
  const t0 = process.hrtime.bigint();
  execFileSync(argv[0], argv.slice(1), { env, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(home, { recursive: true, force: true });
  return ms;
}

const cases = {
  'node -e 0 (floor)': [process.execPath, '-e', '0'],
  'pip config --user set index-url (baseline)': [
    'python3',
    '-m',
    'pip',
    'config',
    '--user',
    'set',
    'global.index-url',
    'https://pypi.tuna.tsinghua.edu.cn/simple',
  ],
  'tuna-setup apply --targets pip': [process.execPath, cli, 'apply', '--mirror', 'tuna', '--targets', 'pip'],
  'tuna-setup apply --targets pip,uv,conda': [process.execPath, cli, 'apply', '--mirror', 'tuna', '--targets', 'pip,uv,conda'],
};
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const argv of Object.values(cases)) timeOnce(argv); // warm caches
for (let i = 0; i < rounds; i++) for (const [name, argv] of Object.entries(cases)) samples[name].push(timeOnce(argv));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));

console.log(`rounds: ${rounds} (median wall time per command, fresh process and temp home each)`);
for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(44)} ${v.toFixed(1).padStart(7)} ms`);
const pipBase = m['pip config --user set index-url (baseline)'];
const floor = m['node -e 0 (floor)'];
console.log(`ratio apply(pip) / pip config set:            ${(m['tuna-setup apply --targets pip'] / pipBase).toFixed(2)}x (lower is faster)`);
console.log(`ratio apply(pip,uv,conda) / pip config set:   ${(m['tuna-setup apply --targets pip,uv,conda'] / pipBase).toFixed(2)}x`);
console.log(`ratio apply(pip,uv,conda) / node -e 0:        ${(m['tuna-setup apply --targets pip,uv,conda'] / floor).toFixed(2)}x`);
