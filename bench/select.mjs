// Benchmark: mirror selection (`selectMirror`, as `tuna-setup select` runs it)
// against simulated mirrors on loopback with known latency and bandwidth
// (test/helpers/mirror-sim.mjs, in a child process so its pacing timers do not
// share our event loop), plus faults. Baseline, run beside it on the same
// mirrors: the sequential time-boxed method of chsrc / oh-my-mirrorz — each
// mirror in turn, one large download capped at BASELINE_CAP_MS, fastest
// bytes/second wins, only HTTP 200 counts.
//
// Prints: decision time ours vs baseline (ratio), regret over randomized
// scenarios, bytes per selection, decision time with 10 candidates of which 2
// are black holes, and the hostile set: decision and process-exit time of a
// selection in a child process of its own, 2 of 10 candidates hostile (black
// hole + gzip bomb, a silent proxy, header flood + ReDoS page) beside the
// clean run; and 5/10/20/40 candidates with one far-wide mirror among
// near-narrow ones. Usage: node bench/select.mjs [scenarios] [seed]
// (needs `npm run build`: it imports the built SDK, like a user's script).
import { fork, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { selectMirror } from '../packages/sdk/dist/index.js';
import { candidateFromPair, REFERENCE_BYTES } from '../packages/sdk/dist/probe/index.js';
import { sequentialBaseline } from './baseline.mjs';

const SCENARIOS = Number(process.argv[2] ?? 30);
let seed = Number(process.argv[3] ?? 20261127);
const BASELINE_CAP_MS = 3000;
const ARTIFACT = 64 * 1024 * 1024;
const FAULTS = ['refused', 'blackhole', 'trickle', '5xx', '404', 'portal', 'stale', 'files-404'];

// a seeded PRNG (mulberry32), so a run is reproducible
const random = () => {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const logUniform = (lo, hi) => Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo)));

const sim = fork(path.resolve(import.meta.dirname, '../test/helpers/mirror-sim.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
let nextId = 0;
const call = (msg) =>
  new Promise((resolve) => {
    const id = ++nextId;
    const onMessage = (m) => {
      if (m.id === id) {
        sim.off('message', onMessage);
        resolve(m);
      }
    };
    sim.on('message', onMessage);
    sim.send({ ...msg, id });
  });

async function startScenario(specs) {
  const { mirrors } = await call({ cmd: 'start', specs: specs.map((s) => ({ artifactBytes: ARTIFACT, ...s })) });
  return mirrors.map((m) => candidateFromPair('pypi', `${m.name}=${m.url}`, { allowHttp: true }));
}

/** what a 32 MiB download really costs on this mirror, from the scenario's truth */
const effective = (s) => (s.fault ? 0 : REFERENCE_BYTES / ((s.latencyMs ?? 0) / 1000 + REFERENCE_BYTES / s.bandwidthBps));

async function ours(candidates) {
  const t0 = performance.now();
  const report = await selectMirror({ service: 'pypi', candidates, allowHttp: true });
  return { ms: performance.now() - t0, report };
}

const baseline = (candidates) => sequentialBaseline(candidates, BASELINE_CAP_MS);

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. decision time, ours vs the sequential baseline, on one fixed scenario
const fixed = [
  { name: 'near-narrow', latencyMs: 5, bandwidthBps: 2e6 },
  { name: 'far-wide', latencyMs: 180, bandwidthBps: 20e6 },
  { name: 'mid', latencyMs: 40, bandwidthBps: 8e6 },
  { name: 'mid2', latencyMs: 60, bandwidthBps: 5e6 },
  { name: 'slow', latencyMs: 120, bandwidthBps: 1e6 },
  { name: 'stale', latencyMs: 10, bandwidthBps: 15e6, fault: 'stale' },
  { name: 'portal', fault: 'portal' },
  { name: 'hole', fault: 'blackhole' },
];
let cands = await startScenario(fixed);
const o = await ours(cands);
const b = await baseline(cands);
console.log('1. decision time on a fixed scenario (8 mirrors: 5 healthy of 2–20 MB/s, stale, portal, black hole)');
console.log(`   ours:     ${fmt(o.ms)}  chose ${o.report.chosen?.name}  read ${(o.report.bytes / 1e6).toFixed(1)} MB`);
console.log(`   baseline: ${fmt(b.ms)}  chose ${b.chosen}  read ${(b.bytes / 1e6).toFixed(1)} MB  (sequential, ${BASELINE_CAP_MS / 1000} s cap per mirror)`);
console.log(`   ratio baseline/ours: ${(b.ms / o.ms).toFixed(1)}x faster (target ≥ 5x)`);

// 2. regret and bytes over randomized scenarios
const regrets = [];
const bytes = [];
const times = [];
for (let i = 0; i < SCENARIOS; i++) {
  const specs = Array.from({ length: 8 }, (_, j) => {
    const s = { name: `m${j}`, latencyMs: Math.round(logUniform(2, 300)), bandwidthBps: Math.round(logUniform(0.5e6, 25e6)) };
    return random() < 0.25 ? { ...s, fault: FAULTS[Math.floor(random() * FAULTS.length)] } : s;
  });
  if (specs.every((s) => s.fault)) delete specs[0].fault;
  cands = await startScenario(specs);
  const { ms, report } = await ours(cands);
  const best = Math.max(...specs.map(effective));
  const chosen = specs.find((s) => s.name === report.chosen?.name);
  const regret = chosen ? 1 - effective(chosen) / best : 1;
  regrets.push(regret);
  bytes.push(report.bytes);
  times.push(ms);
  if (regret > 0.1) {
    const truth = specs.map((s) => `${s.name}:${s.fault ?? `${s.latencyMs}ms/${(s.bandwidthBps / 1e6).toFixed(1)}MB/s`}`).join(' ');
    const seen = report.ranking
      .filter((r) => r.ok)
      .map((r) => `${r.name}:${r.latencyMs}ms/${((r.throughputBps ?? 0) / 1e6).toFixed(1)}MB/s`)
      .join(' ');
    console.log(`   scenario ${i + 1}: regret ${(regret * 100).toFixed(0)}% — truth ${truth} — measured ${seen}`);
  }
}
const within = regrets.filter((r) => r <= 0.1).length;
console.log(`2. regret over ${SCENARIOS} randomized scenarios (8 mirrors each, 2–300 ms, 0.5–25 MB/s, 25% faulty; best = fastest 32 MiB download)`);
console.log(
  `   regret ≤ 10% in ${within}/${SCENARIOS} = ${((within / SCENARIOS) * 100).toFixed(0)}% of scenarios (target ≥ 95%); median regret ${(median(regrets) * 100).toFixed(1)}%, worst ${(Math.max(...regrets) * 100).toFixed(1)}%`,
);
console.log(`   decision time median ${fmt(median(times))}, worst ${fmt(Math.max(...times))}`);
console.log(`3. bytes per selection: median ${(median(bytes) / 1e6).toFixed(1)} MB, worst ${(Math.max(...bytes) / 1e6).toFixed(1)} MB (target ≤ 16 MB)`);

// 4. ten candidates, two of them black holes
const ten = Array.from({ length: 8 }, (_, j) => ({ name: `ok${j}`, latencyMs: 5 + 20 * j, bandwidthBps: 2e6 + 2e6 * j })).concat([
  { name: 'hole1', fault: 'blackhole' },
  { name: 'hole2', fault: 'blackhole' },
]);
cands = await startScenario(ten);
const tenTimes = [];
for (let i = 0; i < 5; i++) tenTimes.push((await ours(cands)).ms);
console.log(`4. 10 candidates, 2 black holes: decision time median ${fmt(median(tenTimes))} of 5 runs, worst ${fmt(Math.max(...tenTimes))} (target ≤ 1.5 s)`);

// 5. the hostile set: each selection in a child process of its own (test/helpers/select-child.mjs), so
// the time to the process's exit is measured too — nothing may keep it alive past the budget
const BUDGET = 1500;
const silent = net.createServer((s) => {
  s.on('error', () => {});
  s.resume();
});
await new Promise((r) => silent.listen(0, '127.0.0.1', r));
const proxy = `http://127.0.0.1:${silent.address().port}`;
const childSelect = (pairs, env = {}) =>
  new Promise((resolve) => {
    const arg = JSON.stringify({ service: 'pypi', candidates: pairs, budgetMs: BUDGET, allowHttp: true });
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|no)_proxy$/i.test(k)));
    const p = spawn(process.execPath, [path.resolve(import.meta.dirname, '../test/helpers/select-child.mjs'), arg], {
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('exit', () => {
      const r = JSON.parse(out);
      resolve({ decision: r.answeredAt - r.startedAt, exit: Date.now() - r.startedAt, chosen: r.report?.chosen?.name, rss: r.rssGrowthMB });
    });
  });
const healthy = Array.from({ length: 8 }, (_, j) => ({ name: `ok${j}`, latencyMs: 5 + 20 * j, bandwidthBps: 2e6 + 2e6 * j }));
const hostileSets = [
  ['clean (10 healthy)', [...healthy, { name: 'ok8', latencyMs: 30, bandwidthBps: 3e6 }, { name: 'ok9', latencyMs: 50, bandwidthBps: 4e6 }], {}],
  ['black hole + gzip bomb', [...healthy, { name: 'hole', fault: 'blackhole' }, { name: 'bomb', fault: 'bomb', latencyMs: 5 }], {}],
  [
    '2 behind a silent proxy',
    [...healthy, { name: 'px1', latencyMs: 5, bandwidthBps: 20e6 }, { name: 'px2', latencyMs: 5, bandwidthBps: 20e6 }],
    { proxied: ['px1', 'px2'] },
  ],
  ['header flood + ReDoS page', [...healthy, { name: 'flood', fault: 'headers' }, { name: 'redos', fault: 'redos' }], {}],
];
console.log(
  `5. hostile set: 10 candidates, 2 hostile, budget ${BUDGET} ms, 5 runs each, a child process per selection (targets: decision ≤ 1.5 s, exit ≤ budget)`,
);
for (const [label, specs, opts] of hostileSets) {
  const { mirrors } = await call({ cmd: 'start', specs: specs.map((x) => ({ artifactBytes: ARTIFACT, ...x })) });
  // healthy ones are reached as localhost (NO_PROXY), the proxied ones by IP through the proxy
  const pairs = mirrors.map((m) => `${m.name}=${opts.proxied?.includes(m.name) ? m.url : m.url.replace('127.0.0.1', 'localhost')}`);
  const env = opts.proxied ? { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, NO_PROXY: 'localhost' } : {};
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await childSelect(pairs, env));
  const d = runs.map((r) => r.decision);
  const e = runs.map((r) => r.exit);
  const picks = [...new Set(runs.map((r) => r.chosen))].join('/');
  console.log(
    `   ${label.padEnd(26)} decision median ${fmt(median(d))} worst ${fmt(Math.max(...d))} · exit median ${fmt(median(e))} worst ${fmt(Math.max(...e))} · chose ${picks} · maxRSS growth ≤ ${Math.max(...runs.map((r) => r.rss))} MB`,
  );
}
silent.close();

// 6. many candidates: one far-wide mirror among near-narrow ones, at a random place, 3 seeds per size
console.log('6. one far-wide mirror (180 ms, 20 MB/s) among near-narrow ones (5 ms, 2 MB/s): sampled and chosen? (target: every seed)');
for (const n of [5, 10, 20, 40]) {
  const results = [];
  for (let k = 0; k < 3; k++) {
    const at = Math.floor(random() * n);
    const specs = Array.from({ length: n }, (_, j) =>
      j === at ? { name: 'far-wide', latencyMs: 180, bandwidthBps: 20e6 } : { name: `near${j}`, latencyMs: 5, bandwidthBps: 2e6 },
    );
    const c = await startScenario(specs);
    const { ms, report } = await ours(c);
    const far = report.ranking.find((r) => r.name === 'far-wide');
    results.push({ ms, chosen: report.chosen?.name === 'far-wide', sampled: far?.throughputBps !== null, bytes: report.bytes });
  }
  console.log(
    `   ${String(n).padStart(2)} candidates: sampled ${results.filter((r) => r.sampled).length}/3, chosen ${results.filter((r) => r.chosen).length}/3, decision worst ${fmt(Math.max(...results.map((r) => r.ms)))}, bytes worst ${(Math.max(...results.map((r) => r.bytes)) / 1e6).toFixed(1)} MB`,
  );
}

await call({ cmd: 'stop' });
sim.disconnect();
