// Benchmark: mirror selection on real links — the link lab (bench/lab/):
// mirrors behind TUN links with a per-link round trip (packet delay in
// router.c) and rate (tc htb), cubic on the mirrors, in network namespaces of
// our own. Per scenario: the truth (a real 32 MiB download from each mirror,
// one after another, on a fresh connection), then RUNS selections as
// `tuna-setup select` makes them (a child process each, in the client's
// namespace, default 3000 ms budget), and the sequential time-boxed baseline
// (chsrc / oh-my-mirrorz, 3 s per mirror) once. Prints truth, pick, regret,
// decision, process exit and bytes per run, beside the baseline.
// Needs root (namespaces, TUN), iproute2 and a C compiler; says so and exits 0
// where they are missing. Usage: node bench/link-lab.mjs [runs] [scenario-index…]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { labMissing, startLab } from './lab/lab.mjs';
import { SCENARIOS } from './lab/scenarios.mjs';

const RUNS = Number(process.argv[2] ?? 5);
const ONLY = process.argv.slice(3).map(Number);
const TRUTH_BYTES = 32 * 1024 * 1024;
const BUDGET = 3000;
const HERE = import.meta.dirname;
const CHILD = path.resolve(HERE, '../test/helpers/select-child.mjs');

const why = labMissing();
if (why) {
  console.log(`link lab: skipped — ${why}`);
  process.exit(0);
}

function inClient(lab, argv) {
  const full = lab.clientArgv(argv);
  return new Promise((resolve) => {
    const p = spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('exit', () => resolve({ out, exitedAt: Date.now() }));
  });
}

const fmt = (ms) => (ms === undefined ? '   –  ' : `${(ms / 1000).toFixed(2)} s`);
const pct = (x) => `${(x * 100).toFixed(0)}%`;
const summary = [];

for (const [index, sc] of SCENARIOS.entries()) {
  if (ONLY.length && !ONLY.includes(index)) continue;
  const lab = await startLab(sc.links);
  try {
    console.log(`\n## ${sc.name}`);
    // truth: fastest-declared first, so a cap of 3× the best so far bounds the slow ones
    const truth = {};
    const live = sc.links.filter((l) => !l.drop && !l.server?.fault);
    let best = Infinity;
    for (const l of [...live].sort((a, b) => b.mbit - a.mbit)) {
      if (l.sameAs && truth[l.sameAs]) {
        truth[l.name] = truth[l.sameAs];
        continue;
      }
      const cap = Number.isFinite(best) ? Math.max(3 * best, 10_000) : 120_000;
      const { out } = await inClient(lab, [
        process.execPath,
        path.join(HERE, 'lab/fetch.mjs'),
        `${lab.urls[l.name]}/pypi/web/packages/truth.whl`,
        String(TRUTH_BYTES),
        String(cap),
      ]);
      const r = JSON.parse(out);
      truth[l.name] = r.complete ? { ms: r.ms } : { ms: cap, capped: true };
      if (r.complete) best = Math.min(best, r.ms);
    }
    const bestName = Object.entries(truth).sort((a, b) => a[1].ms - b[1].ms)[0][0];
    const shown = sc.links.filter((l) => !l.sameAs || l.name === l.sameAs);
    console.log(
      `truth (32 MiB): ${shown.map((l) => `${l.name} ${l.drop ? 'drops' : l.server?.fault ? 'silent' : truth[l.name].capped ? `> ${fmt(truth[l.name].ms)}` : fmt(truth[l.name].ms)}`).join(' · ')}  → best ${bestName}`,
    );
    const regret = (name) => (name && truth[name] ? truth[name].ms / truth[bestName].ms - 1 : Infinity);

    const pairs = sc.links.map((l) => `${l.name}=${lab.urls[l.name]}`);
    const rows = [];
    for (let i = 0; i < RUNS; i++) {
      const { out, exitedAt } = await inClient(lab, [
        process.execPath,
        CHILD,
        JSON.stringify({ service: 'pypi', candidates: pairs, budgetMs: BUDGET, allowHttp: true }),
      ]);
      const r = JSON.parse(out);
      const pick = r.report?.chosen?.name ?? null;
      const row = { pick, regret: regret(pick), decision: r.answeredAt - r.startedAt, exit: exitedAt - r.startedAt, bytes: r.report?.bytes ?? 0 };
      rows.push(row);
      const seen = (r.report?.ranking ?? [])
        .filter((m) => m.ok)
        .slice(0, 4)
        .map((m) => `${m.name} ${((m.throughputBps ?? 0) / 1e6).toFixed(1)}MB/s${m.rateBasis ? `(${m.rateBasis[0]})` : ''}`)
        .join(', ');
      console.log(
        `ours #${i + 1}: ${String(pick).padEnd(11)} regret ${pct(row.regret).padStart(4)} · decision ${fmt(row.decision)} · exit ${fmt(row.exit)} · ${(row.bytes / 1e6).toFixed(1)} MB · measured ${seen}`,
      );
    }
    const base = JSON.parse(
      (
        await inClient(lab, [
          process.execPath,
          path.join(HERE, 'baseline.mjs'),
          JSON.stringify({ candidates: sc.links.map((l) => ({ name: l.name, url: `${lab.urls[l.name]}/pypi/web/simple` })), capMs: 3000 }),
        ])
      ).out,
    );
    console.log(`baseline (sequential, 3 s cap): ${base.chosen} regret ${pct(regret(base.chosen))} · ${fmt(base.ms)} · ${(base.bytes / 1e6).toFixed(0)} MB`);
    summary.push({ name: sc.name, best: bestName, rows, base: { ...base, regret: regret(base.chosen) } });
  } finally {
    await lab.stop();
  }
}

console.log('\n| scenario | truth best | ours: within 10% | worst regret | decision (worst) | exit (worst) | bytes (worst) | baseline |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const s of summary) {
  const w = (k) => Math.max(...s.rows.map((r) => r[k]));
  console.log(
    `| ${s.name} | ${s.best} | ${s.rows.filter((r) => r.regret <= 0.1).length}/${s.rows.length} | ${pct(w('regret'))} | ${fmt(w('decision'))} | ${fmt(w('exit'))} | ${(w('bytes') / 1e6).toFixed(1)} MB | ${s.base.chosen}, regret ${pct(s.base.regret)}, ${fmt(s.base.ms)} |`,
  );
}
