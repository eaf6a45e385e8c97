// Benchmark: offline resolution (`resolveTorch`, what `tuna-setup resolve
// --offline` computes) is a table lookup — target ≤ 1 ms per call in-process.
// Baseline beside it: one Table-3 lookup (`nativeCudaForDriver`), the least
// any resolver does; the ratio says how many such lookups a resolution costs.
// Usage: node bench/resolve.mjs [calls]   (needs `npm run build`)
import { nativeCudaForDriver, resolveTorch } from '../packages/sdk/dist/index.js';

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
const base = time((i) => { sink += nativeCudaForDriver(drivers[i % drivers.length])?.length ?? 0; });
const ours = time((i) => { sink += resolveTorch(requests[i % requests.length]).reasons.length; });
console.log(`calls: ${calls} (6 requests in rotation: GPU kinds, sources, no driver)`);
console.log(`  Table-3 lookup (baseline)  ${(base * 1000).toFixed(2).padStart(8)} µs/call`);
console.log(`  resolveTorch               ${(ours * 1000).toFixed(2).padStart(8)} µs/call  (target ≤ 1000 µs)`);
console.log(`  ratio resolveTorch / lookup: ${(ours / base).toFixed(1)}x${sink < 0 ? '' : ''}`);
