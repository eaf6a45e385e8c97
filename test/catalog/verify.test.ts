// `tuna-setup catalog verify` (issue: a catalog anyone can verify live) against
// a loopback copy of a mirror's layout where some rows are fine, some missing,
// moved (a redirect), stale or failing, and one mirror nothing answers for.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTargets, MIRRORS } from '@tuna-setup/sdk/catalog';
import { runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

let server: http.Server;
let base = '';
const log: string[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const day = 86_400_000;
    const routes: Record<string, () => void> = {
      '/pypi/web/simple/pip/': () => res.writeHead(200, { 'content-type': 'text/html' }).end(),
      '/anaconda/pkgs/main/noarch/repodata.json': () => res.writeHead(200, { 'last-modified': new Date(Date.now() - 3_600_000).toUTCString() }).end(),
      '/anaconda/pkgs/msys2/noarch/repodata.json': () => res.writeHead(301, { location: `${base}/new-home/msys2/noarch/repodata.json` }).end(),
      '/new-home/msys2/noarch/repodata.json': () => res.writeHead(200).end(),
      '/anaconda/cloud/conda-forge/noarch/repodata.json': () => res.writeHead(200, { 'last-modified': new Date(Date.now() - 30 * day).toUTCString() }).end(),
      '/anaconda/cloud/pytorch/noarch/repodata.json': () => res.writeHead(503).end(),
      '/whl/cpu/torch/': () => res.writeHead(200, { 'content-type': 'text/html' }).end(),
      '/static/tunasync.json': () => res.writeHead(200, { 'content-type': 'application/json' }).end(),
    };
    (routes[req.url ?? ''] ?? (() => res.writeHead(404).end()))();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function mirrorFile(): string {
  const file = path.join(tempDir('tuna-verify-'), 'mirrors.yaml');
  writeFileSync(
    file,
    `- name: loop
  url: ${base}
  pypi: { index: ${base}/pypi/web/simple }
  conda:
    defaultChannels: [${base}/anaconda/pkgs/main, ${base}/anaconda/pkgs/r, ${base}/anaconda/pkgs/msys2]
    cloud: ${base}/anaconda/cloud
    channels: [conda-forge, pytorch]
  pytorchWheels: { index: ${base}/whl }
  status: { url: ${base}/static/tunasync.json, format: tunasync }
- name: gone
  url: http://127.0.0.1:9
  pypi: { index: http://127.0.0.1:9/simple }
`,
  );
  return file;
}

describe('catalog verify', () => {
  it('one HEAD per URL, a verdict per row: ok, missing, moved, stale, unreachable; exit 1 when any is not ok', async () => {
    const r = await runCliAsync(['catalog', 'verify', '--mirror-file', mirrorFile(), '--allow-http', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const { rows, counts } = r.json();
    const by = (row: string, mirror = 'loop') => rows.find((x: { row: string; mirror: string }) => x.row === row && x.mirror === mirror);
    expect(by('pypi')).toMatchObject({ verdict: 'ok', status: 200, url: `${base}/pypi/web/simple/pip/` });
    expect(by('conda default_channels[0]').verdict).toBe('ok');
    expect(by('conda default_channels[1]')).toMatchObject({ verdict: 'missing', status: 404 });
    expect(by('conda default_channels[2]')).toMatchObject({ verdict: 'moved', movedTo: `${base}/new-home/msys2/noarch/repodata.json` });
    expect(by('conda channel conda-forge')).toMatchObject({ verdict: 'stale' });
    expect(by('conda channel conda-forge').detail).toMatch(/30 days ago/);
    expect(by('conda channel pytorch')).toMatchObject({ verdict: 'unreachable', status: 503 });
    expect(by('pytorchWheels').verdict).toBe('ok');
    expect(by('status').verdict).toBe('ok');
    expect(by('pypi', 'gone').verdict).toBe('unreachable');
    expect(counts).toEqual({ ok: 4, moved: 1, missing: 1, stale: 1, unreachable: 2 });
    // polite: HEAD only, each URL once (the redirect's target once more)
    expect(log.every((l) => l.startsWith('HEAD '))).toBe(true);
    expect(new Set(log).size).toBe(log.length);
  });

  it('text output names each row that is not ok; --mirror picks rows; bad flags are usage errors', async () => {
    const file = mirrorFile();
    const ok = await runCliAsync(['catalog', 'verify', '--mirror-file', file, '--mirror', 'loop', '--allow-http']);
    expect(ok.stdout).toMatch(
      /^missing\s+loop\s+conda default_channels\[1\]\s+http:\/\/127\.0\.0\.1:\d+\/anaconda\/pkgs\/r\/noarch\/repodata\.json\s+— HTTP 404$/m,
    );
    expect(ok.stdout).not.toContain('gone');
    expect((await runCliAsync(['catalog', 'verify', '--concurrency', '0', '--json'])).code).toBe(2);
    expect((await runCliAsync(['catalog', 'check', '--json'])).json().error.message).toMatch(/unknown catalog command 'check'/);
  });

  it('what it asks of the catalog: every row of every mirror, one small resource each', () => {
    const targets = MIRRORS.flatMap(verifyTargets);
    expect(targets.length).toBeGreaterThan(40);
    expect(targets.find((t) => t.mirror === 'tuna' && t.row === 'conda channel conda-forge')!.url).toBe(
      'https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud/conda-forge/noarch/repodata.json',
    );
    expect(targets.filter((t) => t.mirror === 'tuna').map((t) => t.row)).toContain('status');
  });
});
