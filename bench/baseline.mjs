// The baseline every selection benchmark is measured against: the sequential
// time-boxed method of chsrc / oh-my-mirrorz — each mirror in turn, one large
// download capped at capMs, the fastest bytes/second wins, only HTTP 200
// counts. Used in-process by select.mjs, and as a child process inside the
// link lab's client namespace:
//   node baseline.mjs '{"candidates":[{"name","url"}],"capMs":3000}'  →  {"ms","chosen","bytes"}
import { Agent, request } from 'undici';

/** @param {{ name: string, url: string }[]} candidates PyPI index URLs (…/simple) */
export async function sequentialBaseline(candidates, capMs = 3000) {
  const t0 = performance.now();
  const agent = new Agent();
  let best = null;
  let bytes = 0;
  for (const c of candidates) {
    const url = `${c.url.replace(/\/simple$/, '')}/packages/big-file.whl`;
    const ac = new AbortController();
    const started = performance.now();
    const timer = setTimeout(() => ac.abort(), capMs);
    let got = 0;
    let status = 0;
    try {
      const res = await request(url, { dispatcher: agent, signal: ac.signal });
      status = res.statusCode;
      for await (const chunk of res.body) got += chunk.length;
    } catch {
      /* capped or failed: what arrived counts */
    }
    clearTimeout(timer);
    bytes += got;
    const speed = got / ((performance.now() - started) / 1000);
    if (status === 200 && (!best || speed > best.speed)) best = { name: c.name, speed };
  }
  await agent.destroy();
  return { ms: performance.now() - t0, chosen: best?.name ?? null, bytes };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, '/'))) {
  const { candidates, capMs } = JSON.parse(process.argv[2]);
  process.stdout.write(JSON.stringify(await sequentialBaseline(candidates, capMs)));
}
