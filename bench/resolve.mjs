// Benchmark: offline resolution (`resolveTorch`, what `tuna-setup resolve
// --offline` computes) is a table lookup — target ≤ 1 ms per call in-process.
// Baseline beside it: one Table-3 lookup (`nativeCudaForDriver`), the least
// any resolver does; the ratio says how many such lookups a resolution costs.
// Usage: node bench/resolve.mjs [calls]   (needs `npm run build`)
import { nativeCudaForDriver, resolveTorch } from '../packages/sdk/dist/torch/index.js';

const calls = Number(process.argv[2] ?? 20000);
const requests = [
  { torch: 'latest', driver: '580.95.05', gpus: ['9.0'] },
  { torch: '2.7', driver: '535.230.02', gpus: ['6.1'] },
  { torch: '2.13', driver: '560.35.05', gpus: ['8.9', '8.6'], python: '3.12' },
  { torch: '2.9', driver: '575.64.05', gpus: ['10.0'], source: 'cuda' },
  { torch: '2.7', driver: '575.64.05', gpus: ['9.0'], source: 'ngc' },
  { torch: '2.4', driver: null },
];
const drivers = requests.map((r) => r.driver ?? '0');

function time(fn) {
  for (let i = 0; i < 2000; i++) fn(i); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1e6 / calls;
}
let sink = 0;
const base = time((i) => {
  sink += nativeCudaForDriver(drivers[i % drivers.length])?.length ?? 0;
});
const ours = time((i) => {
  sink += resolveTorch(requests[i % requests.length]).reasons.length;
});
console.log(`calls: ${calls} (6 requests in rotation: GPU kinds, sources, no driver)`);
console.log(`  Table-3 lookup (baseline)  ${(base * 1000).toFixed(2).padStart(8)} µs/call`);
console.log(`  resolveTorch               ${(ours * 1000).toFixed(2).padStart(8)} µs/call  (target ≤ 1000 µs)`);
console.log(`  ratio resolveTorch / lookup: ${(ours / base).toFixed(1)}x${sink < 0 ? '' : ''}`);

// Online: `latest` against a PyPI-like index on loopback that lists a torch
// newer than the tables (2.15.0) — the live release read, then the wheel
// checked on the index. Cold (nothing cached) and warm (listings cached an
// hour in the state dir). Baseline beside it: one GET of the torch listing.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveEnvironment } from '../packages/sdk/dist/index.js';

const PY = ['cp310', 'cp311', 'cp312', 'cp313', 'cp314'];
const wheels = (project, version) => PY.map((py) => `${project}-${version}-${py}-${py}-manylinux_2_28_x86_64.whl`);
const projects = {
  torch: [...wheels('torch', '2.14.0'), ...wheels('torch', '2.15.0')],
  torchvision: [...wheels('torchvision', '0.29.0'), ...wheels('torchvision', '0.30.0')],
};
let requestsServed = 0;
const server = http.createServer((req, res) => {
  requestsServed++;
  const m = /^\/simple\/([a-z0-9-]+)\/$/.exec(req.url ?? '');
  const files = m && projects[m[1]];
  if (!files) return res.writeHead(404).end();
  res
    .writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' })
    .end(
      JSON.stringify({ meta: { 'api-version': '1.1' }, name: m[1], files: files.map((filename) => ({ filename, url: `/packages/${filename}`, hashes: {} })) }),
    );
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const index = `http://127.0.0.1:${server.address().port}/simple`;
const runs = 20;
const online = async (stateDir) => {
  const before = requestsServed;
  const t0 = performance.now();
  const env = await resolveEnvironment({
    torch: 'latest',
    driver: '580.95.05',
    gpus: ['9.0'],
    pypiIndex: index,
    allowHttp: true,
    offline: false,
    checkImage: false,
    platform: 'linux-x86_64',
    stateDir,
  });
  if (env.torch !== '2.15.0') throw new Error(`resolved ${env.torch}`);
  return { ms: performance.now() - t0, requests: requestsServed - before };
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const baseMs = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  await (await fetch(`${index}/torch/`)).text();
  baseMs.push(performance.now() - t0);
}
const cold = [];
const warm = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tuna-bench-'));
  cold.push(await online(dir));
  warm.push(await online(dir));
  rmSync(dir, { recursive: true, force: true });
}
server.close();
const b = median(baseMs);
console.log(`online, latest → 2.15.0 from a loopback PyPI index (median of ${runs}):`);
console.log(`  one GET of the torch listing (baseline)  ${b.toFixed(2).padStart(7)} ms`);
console.log(
  `  cold (nothing cached)                    ${median(cold.map((r) => r.ms))
    .toFixed(2)
    .padStart(7)} ms, ${cold[0].requests} requests  (${(median(cold.map((r) => r.ms)) / b).toFixed(1)}x)`,
);
console.log(
  `  warm (listings cached)                   ${median(warm.map((r) => r.ms))
    .toFixed(2)
    .padStart(7)} ms, ${warm[0].requests} requests  (${(median(warm.map((r) => r.ms)) / b).toFixed(1)}x)`,
);
