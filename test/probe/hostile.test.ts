// Mirror selection against hostile servers, proxies and DNS, as a user's
// process meets them: each selection runs in a child process of its own
// (test/helpers/select-child.mjs, the built SDK) beside a healthy mirror, and
// every case asserts the same four things — the answer comes within the
// budget + 200 ms and the process exits by then too (no lookup, socket or
// timer keeps it alive), memory stays bounded (maxRSS growth < 100 MB), the
// hostile candidate is excluded with its reason named, and the healthy one
// still wins.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectMirror } from '@tuna-setup/sdk';
import { candidateFromPair } from '@tuna-setup/sdk/probe';
import { startMirrors, type MirrorSpec } from '../helpers/mirror-sim.mjs';
import { itWith } from '../helpers/env.js';
import { expiredLoopbackCert, loopbackCert } from '../helpers/tls.js';
import { tempDir } from '../helpers/tmp.js';

const CHILD = path.resolve(import.meta.dirname, '../helpers/select-child.mjs');
const BUDGET = 1500;
const MARGIN = 200;

type Sim = Awaited<ReturnType<typeof startMirrors>>;
const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function sim(specs: MirrorSpec[], options: Parameters<typeof startMirrors>[1] = {}): Promise<Sim> {
  const s = await startMirrors(specs, options);
  closers.push(() => s.close());
  return s;
}

interface ChildResult {
  startedAt: number;
  answeredAt: number;
  exitedAt: number;
  rssGrowthMB: number;
  report?: {
    chosen: { name: string; url: string } | null;
    ranking: { name: string; url: string; ok: boolean; excluded: string | null; sync?: string; redirectedTo?: string }[];
    elapsedMs: number;
  };
  error?: { code?: string; message: string; hint?: string };
  stderr: string;
}

/** Runs one selection in a child process; `status`: candidate name → its tunasync.json. */
function select(candidates: string[], env: NodeJS.ProcessEnv = {}, opts: { status?: Record<string, string>; allowHttp?: boolean } = {}): Promise<ChildResult> {
  const argv = [
    process.execPath,
    CHILD,
    JSON.stringify({ service: 'pypi', candidates, budgetMs: BUDGET, allowHttp: opts.allowHttp ?? true, status: opts.status }),
  ];
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|no|all)_proxy$/i.test(k)));
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.on('exit', () => {
      const exitedAt = Date.now();
      clearTimeout(killer);
      try {
        resolve({ ...JSON.parse(stdout), exitedAt, stderr });
      } catch {
        reject(new Error(`child printed no result: ${stdout} ${stderr}`));
      }
    });
  });
}

const entry = (r: ChildResult, name: string) => r.report!.ranking.find((m) => m.name === name)!;

function expectBounded(r: ChildResult) {
  expect(r.error, r.stderr).toBeUndefined();
  expect(r.answeredAt - r.startedAt).toBeLessThanOrEqual(BUDGET + MARGIN);
  expect(r.exitedAt - r.startedAt, 'the process exits within the budget').toBeLessThanOrEqual(BUDGET + MARGIN);
  expect(r.rssGrowthMB).toBeLessThan(100);
  expect(r.stderr).toBe('');
}

const pip = (url: string) => `${url}/pypi/web/simple`;

describe('hostile mirrors: excluded with the reason, within the budget, the healthy one wins', () => {
  let good: Sim;
  beforeAll(async () => {
    good = await sim([{ name: 'good', latencyMs: 20, bandwidthBps: 20e6 }]);
  });

  it.each([
    ['bomb', /^response too large: inflates past \d+ MiB$/],
    ['endless', /^response too large: over \d+ MiB$/],
    ['headers', /^response headers too large$/],
    ['redos', /^200 text\/html for \/pip\/ lists no pip files/],
    ['bad-escape', /^index links pip-24\.3-py3-none-any%E0%A4%A\.whl but it answers HTTP 404$/],
  ])('%s', async (fault, reason) => {
    const bad = await sim([{ name: 'bad', fault, latencyMs: 5 }]);
    const r = await select([`good=${good.url('good')}`, `bad=${bad.url('bad')}`]);
    expectBounded(r);
    expect(r.report!.chosen?.name).toBe('good');
    expect(entry(r, 'bad').excluded).toMatch(reason);
  });

  it('a page of 100k unclosed anchors is scanned in linear time', async () => {
    const bad = await sim([{ name: 'bad', fault: 'redos' }]);
    const r = await select([`good=${good.url('good')}`, `bad=${bad.url('bad')}`]);
    expectBounded(r);
    expect(r.report!.elapsedMs).toBeLessThan(BUDGET / 2);
  });

  it('strings a mirror controls reach the report as data: no newline, control character or escape', async () => {
    const bad = await sim([{ name: 'bad', fault: 'hostile', latencyMs: 5 }]);
    const r = await select([`good=${good.url('good')}`, `bad=${bad.url('bad')}`], {}, { status: { bad: `${bad.url('bad')}/static/tunasync.json` } });
    expectBounded(r);
    expect(entry(r, 'bad').sync).toMatch(/^tunasync pypi success.*::error/);
    expect(r.report!.chosen?.name).toBe('good');
    const reason = entry(r, 'bad').excluded!;
    expect(reason).toMatch(/^index links .*set-output.* but it answers HTTP 404$/);
    const strings: string[] = [];
    JSON.stringify(r.report, (_k, v) => (typeof v === 'string' && strings.push(v), v));
    // eslint-disable-next-line no-control-regex
    expect(strings.filter((v) => /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(v))).toEqual([]);
    expect(entry(r, 'bad').sync).toContain('\\u000a::error');
  });

  it.each([301, 302, 307, 308])('a %i redirect to another mirror is judged where it lands, and reported', async (status) => {
    const target = await sim([{ name: 'target', latencyMs: 5, bandwidthBps: 40e6 }]);
    const moved = await sim([{ name: 'moved', fault: 'redirect', redirect: { status, to: target.url('target')! } }]);
    const r = await select([`good=${good.url('good')}`, `moved=${moved.url('moved')}`]);
    expectBounded(r);
    expect(entry(r, 'moved')).toMatchObject({ ok: true, redirectedTo: expect.stringContaining(target.url('target')!) });
    // what is configured is the URL the user gave: the mirror's redirect stays its own policy
    expect(r.report!.chosen).toEqual({ name: 'moved', url: pip(moved.url('moved')!) });
  });

  it('a redirect loop is excluded by name', async () => {
    // Location: the same path again
    const loop = await sim([{ name: 'loop', fault: 'redirect', redirect: { status: 302, to: '' } }]);
    const r = await select([`good=${good.url('good')}`, `loop=${loop.url('loop')}`]);
    expectBounded(r);
    expect(entry(r, 'loop').excluded).toMatch(/^redirect loop|^more than \d+ redirects/);
  });

  it('a black hole and a TLS handshake that never comes end with the budget', async () => {
    const hole = await sim([{ name: 'hole', fault: 'blackhole' }]);
    const r = await select([`good=${good.url('good')}`, `hole=${hole.url('hole')}`, `tls=${hole.url('hole')!.replace('http:', 'https:')}`]);
    expectBounded(r);
    expect(r.report!.chosen?.name).toBe('good');
    expect(entry(r, 'tls').excluded).toMatch(/no complete answer/);
  });
});

describe('many candidates', () => {
  it('40 candidates: no listener warning, every one probed, the far wide one among 39 near narrow ones chosen', async () => {
    const s = await sim([
      ...Array.from({ length: 39 }, (_, i) => ({ name: `near${i}`, latencyMs: 5, bandwidthBps: 2e6 })),
      { name: 'far', latencyMs: 180, bandwidthBps: 20e6 },
    ]);
    const r = await select(s.mirrors.map((m) => `${m.name}=${m.url}`));
    expectBounded(r); // stderr empty: no MaxListenersExceededWarning
    expect(r.report!.chosen?.name).toBe('far');
    expect(r.report!.ranking.filter((m) => m.ok)).toHaveLength(40);
  });
});

describe('in one process, over and over', () => {
  it('16 selections in a row with a black hole, a bomb, a trickle and a TLS hang each return within the budget', async () => {
    const s = await sim([
      { name: 'good', latencyMs: 20, bandwidthBps: 20e6 },
      { name: 'hole', fault: 'blackhole' },
      { name: 'bomb', fault: 'bomb' },
      { name: 'trickle', fault: 'trickle' },
    ]);
    const pairs = s.mirrors.map((m) => `${m.name}=${m.url}`).concat(`tls=${s.url('hole')!.replace('http:', 'https:')}`);
    const candidates = pairs.map((p) => candidateFromPair('pypi', p, { allowHttp: true }));
    const elapsed: number[] = [];
    for (let i = 0; i < 16; i++) {
      const t0 = performance.now();
      const r = await selectMirror({ service: 'pypi', candidates, budgetMs: 1000, allowHttp: true });
      elapsed.push(performance.now() - t0);
      expect(r.chosen?.name).toBe('good');
    }
    expect(Math.max(...elapsed)).toBeLessThanOrEqual(1000 + MARGIN);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the servers see the last FINs
    expect(s.openConnections(), 'no socket outlives a selection').toBe(0);
  }, 60_000);
});

describe('https mirrors', () => {
  itWith({ bins: ['openssl'] })('https → http is refused; TLS failures are named: self-signed, another host, expired', async () => {
    const trusted = loopbackCert();
    const untrustedCert = loopbackCert();
    const expired = expiredLoopbackCert();
    const bundle = path.join(tempDir(), 'ca.pem');
    writeFileSync(bundle, trusted.cert + expired.cert);
    const plain = await sim([{ name: 'plain', latencyMs: 5, bandwidthBps: 20e6 }]);
    const secure = await sim(
      [
        { name: 'good', latencyMs: 20, bandwidthBps: 20e6 },
        { name: 'down', fault: 'redirect', redirect: { status: 301, to: plain.url('plain')! } },
      ],
      { tls: trusted },
    );
    const self = await sim([{ name: 'self', latencyMs: 5 }], { tls: untrustedCert });
    const old = await sim([{ name: 'old', latencyMs: 5 }], { tls: expired });
    const r = await select(
      [
        `good=${secure.url('good')}`,
        `down=${secure.url('down')}`,
        `self=${self.url('self')}`,
        `old=${old.url('old')}`,
        `elsewhere=${secure.url('good')!.replace('127.0.0.1', 'localhost')}`,
      ],
      { NODE_EXTRA_CA_CERTS: bundle },
      { allowHttp: false },
    );
    expectBounded(r);
    expect(r.report!.chosen?.name).toBe('good');
    expect(entry(r, 'down').excluded).toMatch(/^redirects to plain http \(127\.0\.0\.1:\d+\)$/);
    expect(entry(r, 'self').excluded).toBe('TLS: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
    expect(entry(r, 'old').excluded).toBe('TLS: certificate expired (CERT_HAS_EXPIRED)');
    expect(entry(r, 'elsewhere').excluded).toBe('TLS: certificate is for another host (ERR_TLS_CERT_ALTNAME_INVALID)');
  });
});

describe('proxies that misbehave', () => {
  let good: Sim;
  let hostileUrl: string;
  beforeAll(async () => {
    good = await sim([{ name: 'good', latencyMs: 20, bandwidthBps: 20e6 }]);
    const other = await sim([{ name: 'other', latencyMs: 5, bandwidthBps: 20e6 }]);
    hostileUrl = other.url('other')!;
  });
  // the healthy mirror is reached as localhost (exempt by NO_PROXY), the other through the proxy
  const viaLocalhost = () => `good=${good.url('good')!.replace('127.0.0.1', 'localhost')}`;

  async function proxy(onConnection: (s: net.Socket) => void): Promise<string> {
    const server = net.createServer((s) => {
      s.on('error', () => {});
      onConnection(s);
    });
    const sockets = new Set<net.Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    );
    return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  it.each([
    [
      'silent',
      (s: net.Socket) => {
        s.resume();
      },
      /^no complete answer within \d+ ms \(through the proxy http:\/\/127\.0\.0\.1:\d+\)$|^proxy 127\.0\.0\.1:\d+ did not answer/,
    ],
    [
      '407',
      (s: net.Socket) =>
        s.once('data', () => s.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\ncontent-length: 0\r\n\r\n')),
      /^proxy 127\.0\.0\.1:\d+ requires authentication \(407\)/,
    ],
    ['refusing', (s: net.Socket) => s.destroy(), /^proxy 127\.0\.0\.1:\d+ closed the connection|^connection reset/],
  ])('%s proxy', async (_name, behaviour, reason) => {
    const url = await proxy(behaviour);
    const r = await select([viaLocalhost(), `other=${hostileUrl}`], { HTTP_PROXY: url, HTTPS_PROXY: url, NO_PROXY: 'localhost' });
    expectBounded(r);
    expect(r.report!.chosen?.name).toBe('good');
    expect(entry(r, 'other').excluded).toMatch(reason);
  });

  it('an invalid proxy URL is one error naming the variable', async () => {
    const r = await select([viaLocalhost()], { HTTPS_PROXY: 'http://exa mple:99999', HTTP_PROXY: 'http://exa mple:99999' });
    expect(r.error).toMatchObject({ code: 'BAD_PROXY', message: expect.stringMatching(/HTTPS?_PROXY/) });
    expect(r.error!.message).not.toMatch(/\n/);
    expect(r.exitedAt - r.startedAt).toBeLessThan(BUDGET);
  });
});

describe('DNS that never answers', () => {
  // a private network and mount namespace: resolv.conf points at a resolver on
  // loopback that swallows every query; the healthy mirror is an IP address
  itWith({ root: true, bins: ['unshare', 'ip'] })('the lookup ends with the budget and keeps nothing alive', async () => {
    const dir = tempDir();
    const script = path.join(dir, 'dns.mjs');
    writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:5 attempts:3\n');
    // runs inside the namespace: the silent resolver, the mirror, then the selection child
    writeFileSync(
      script,
      `
      import dgram from 'node:dgram';
      import { spawn } from 'node:child_process';
      import { startMirrors } from ${JSON.stringify(path.resolve(import.meta.dirname, '../helpers/mirror-sim.mjs'))};
      const dns = dgram.createSocket('udp4'); let queries = 0; dns.on('message', () => { queries++; });
      await new Promise((r) => dns.bind(53, '127.0.0.1', r));
      const s = await startMirrors([{ name: 'good', latencyMs: 20, bandwidthBps: 20e6 }]);
      const port = s.mirrors[0].port;
      const args = JSON.stringify({ service: 'pypi', candidates: ['good=' + s.url('good'), 'slow=http://mirror.slow.test:' + port], budgetMs: ${BUDGET}, allowHttp: true });
      const p = spawn(process.execPath, [${JSON.stringify(CHILD)}, args], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = ''; p.stdout.on('data', (d) => { out += d; });
      p.on('exit', async () => { const r = JSON.parse(out); r.exitedAt = Date.now(); r.queries = queries; process.stdout.write(JSON.stringify(r)); dns.close(); await s.close(); });
    `,
    );
    const out = await new Promise<string>((resolve) => {
      const p = spawn(
        'unshare',
        ['-n', '-m', 'sh', '-c', 'ip link set lo up && mount --bind "$1/resolv.conf" /etc/resolv.conf && exec "$2" "$1/dns.mjs"', 'sh', dir, process.execPath],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let o = '';
      p.stdout.on('data', (d) => {
        o += d;
      });
      p.stderr.on('data', (d) => {
        o += d;
      });
      p.on('exit', () => resolve(o));
    });
    const r = JSON.parse(out) as ChildResult & { queries: number };
    expect(r.queries, 'the lookup went to the silent resolver').toBeGreaterThan(0);
    expectBounded({ ...r, stderr: '' });
    expect(r.report!.chosen?.name).toBe('good');
    expect(entry(r, 'slow').excluded).toMatch(/^DNS: no answer for mirror\.slow\.test|^no complete answer/);
  });
});
