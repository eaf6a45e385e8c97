// Benchmark: the local wheel-cache backend (self-hosted runners) on a 10k-file
// entry, against `cp -r` of the same tree beside it — target ≤ 2×. Save is
// what the post step does (content hash, copy, index under the lock); restore
// is the main step's copy back. Then a save with 40 entries already in the
// store against a save into an empty one: eviction reads the index, never
// walks the store, so the ratio should stay near 1.
// Usage: node bench/cache.mjs [files]   (needs `npm run build`)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheContent, entryKey, restoreLocalCache, saveLocalCache } from '../packages/sdk/dist/cache/index.js';

const files = Number(process.argv[2] ?? 10000);
const work = mkdtempSync(path.join(tmpdir(), 'tuna-bench-cache-'));
const src = path.join(work, 'pip');
for (let i = 0; i < files; i++) {
  const dir = path.join(src, 'http-v2', (i % 16).toString(16), ((i >> 4) % 16).toString(16));
  if (i < 256) mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `entry-${i}`), Buffer.alloc(1024, i % 251));
}
const ms = (fn) => {
  const t0 = performance.now();
  const r = fn();
  return r instanceof Promise ? r.then(() => performance.now() - t0) : performance.now() - t0;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rounds = 5;
const base = 'tuna-setup-wheels-v2-bench-x64-py3.12-none-no-deps';
const cpr = [],
  save = [],
  restore = [];
for (let r = 0; r < rounds; r++) {
  cpr.push(await ms(() => execFileSync('cp', ['-r', src, path.join(work, `copy-${r}`)])));
  const root = path.join(work, `store-${r}`);
  const o = { root, maxBytes: 1e12, scope: 'refs/heads/main', readScopes: ['refs/heads/main'] };
  save.push(
    await ms(async () => {
      const c = await cacheContent({ pip: src });
      await saveLocalCache(o, entryKey(base, c), { pip: src }, c.bytes);
    }),
  );
  restore.push(await ms(() => restoreLocalCache(o, [`${base}-`], { pip: path.join(work, `restored-${r}`) })));
}
// eviction cost: 40 entries in the store (small ones), then one more save
const crowded = { root: path.join(work, 'crowded'), maxBytes: 1e12, scope: 'refs/heads/main', readScopes: ['refs/heads/main'] };
const small = path.join(work, 'small');
mkdirSync(small);
for (let k = 0; k < 40; k++) {
  writeFileSync(path.join(small, 'f'), String(k));
  await saveLocalCache(crowded, `${base}-${String(k).padStart(12, '0')}`, { pip: small }, 1);
}
const empty = { ...crowded, root: path.join(work, 'empty') };
const one = async (o, k) => ms(() => saveLocalCache(o, `${base}-x${String(k).padStart(11, '0')}`, { pip: small }, 1));
const emptyMs = [],
  crowdedMs = [];
for (let r = 0; r < rounds; r++) {
  emptyMs.push(await one(empty, r));
  crowdedMs.push(await one(crowded, r));
}
rmSync(work, { recursive: true, force: true });
const c = median(cpr);
console.log(`local wheel cache, ${files} files of 1 KiB (median of ${rounds}):`);
console.log(`  cp -r (baseline)                 ${c.toFixed(0).padStart(6)} ms`);
console.log(`  save (hash + copy + index)       ${median(save).toFixed(0).padStart(6)} ms  (${(median(save) / c).toFixed(2)}x, target ≤ 2x)`);
console.log(`  restore (copy back + index)      ${median(restore).toFixed(0).padStart(6)} ms  (${(median(restore) / c).toFixed(2)}x, target ≤ 2x)`);
console.log(`  one save, empty store            ${median(emptyMs).toFixed(1).padStart(6)} ms`);
console.log(`  one save, 40 entries in store    ${median(crowdedMs).toFixed(1).padStart(6)} ms  (${(median(crowdedMs) / median(emptyMs)).toFixed(2)}x)`);
