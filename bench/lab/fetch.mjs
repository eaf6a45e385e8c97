// Truth for the link lab: one real download of the first BYTES of URL on a
// fresh connection, as pip fetches a wheel (one connection, whole file), in
// whichever network namespace this runs in. Gives up after CAP_MS.
//   node fetch.mjs URL BYTES CAP_MS   →   {"ms": …, "bytes": …, "complete": true|false}
import http from 'node:http';

const [url, bytes, cap] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 120_000)];
const t0 = performance.now();
let got = 0;
const req = http.get(url, { headers: { range: `bytes=0-${bytes - 1}`, 'user-agent': 'tuna-setup-lab/truth' }, agent: false }, (res) => {
  res.on('data', (d) => {
    got += d.length;
  });
  res.on('end', () => done(got >= bytes));
});
const timer = setTimeout(() => {
  req.destroy();
  done(false);
}, cap);
req.on('error', () => done(false));
let finished = false;
function done(complete) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  process.stdout.write(JSON.stringify({ ms: Math.round(performance.now() - t0), bytes: got, complete }));
  process.exit(0);
}
