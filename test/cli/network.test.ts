// The CLI on a network that misbehaves, timed from outside as a user sees
// it: with a proxy that accepts and never answers, `select` and `apply`
// (auto) end — process exit included — within the budget plus the CLI's own
// start-up; a malformed proxy variable is one line and a hint.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

let silent: net.Server;
let proxy = '';
let startup = 0;
beforeAll(async () => {
  silent = net.createServer((s) => {
    s.on('error', () => {});
    s.resume();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  proxy = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  const t0 = performance.now();
  await runCliAsync(['--version']);
  startup = performance.now() - t0;
});
afterAll(() => silent.close());

const env = () => ({
  HTTPS_PROXY: proxy,
  HTTP_PROXY: proxy,
  https_proxy: proxy,
  http_proxy: proxy,
  NO_PROXY: '',
  no_proxy: '',
  XDG_STATE_HOME: tempDir(),
  TUNA_SETUP_OFFLINE: '',
});

async function timed(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const t0 = performance.now();
  const r = await runCliAsync(args, { ...env(), ...extra });
  return { ...r, ms: performance.now() - t0 };
}

describe('a proxy that never answers', () => {
  it('select: every candidate excluded naming the proxy, exit 1, within the budget', async () => {
    const r = await timed(['select', '--budget-ms', '1000', '--fresh', '--mirrors', 'tuna,ustc,official']);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(startup + 1000 + 400);
    expect(r.stderr).toMatch(
      /^tuna-setup: no healthy pypi mirror among 3 candidates — tuna: no complete answer within \d+ ms \(through the proxy http:\/\/127\.0\.0\.1:\d+\)/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/\nhint: /);
  });

  it('apply --mirror auto: falls back to the upstream with a warning, within the budget', async () => {
    const home = tempDir();
    const r = await timed(['apply', '--dry-run', '--budget-ms', '1000', '--targets', 'pip', '--json'], { HOME: home, XDG_CONFIG_HOME: home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(startup + 1000 + 400);
    expect(r.json().mirror.name).toBe('official');
  });
});

describe('a malformed proxy variable', () => {
  it('is one line naming the variable (credentials hidden) and a hint', async () => {
    const r = await timed(['select', '--fresh'], { HTTPS_PROXY: 'http://user:secret@exa mple:3128', https_proxy: undefined as unknown as string });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "tuna-setup: HTTPS_PROXY='http://***@exa mple:3128' is not a valid proxy URL\nhint: fix or unset HTTPS_PROXY, e.g. HTTPS_PROXY=http://proxy.example.com:3128\n",
    );
  });
});
