/**
 * Parallel runs on one HOME — several runner processes as one user,
 * overlapping jobs — must never lose the user's original configs. Real
 * processes, so the lock is the OS's: 16 worker processes (the SDK, driven
 * over IPC) run a random mix of applies and restores in several sessions for
 * 50 rounds; then real CLI processes do the same; then two Action jobs
 * overlap (main A, main B, post A, post B, and the other order). Every round
 * ends with `restore --all` giving the original bytes.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreMirror } from '@tuna-setup/sdk';
import { journalFile } from '@tuna-setup/sdk/config';
import { lockFile } from '@tuna-setup/sdk/fs';
import { newRunner } from '../helpers/action.js';
import { CLI, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const ORIGINAL = {
  pip: '# lab pip config\n[global]\ntimeout = 60\nindex-url = https://pypi.org/simple\n',
  uv: '# uv\nnative-tls = true\n',
  conda: '# conda\nchannels:\n  - conda-forge\n',
};
const MIRRORS = ['tuna', 'ustc', 'bfsu'];
const SESSIONS = ['cli', 's1', 's2', 's3'];
const WORKERS = 16;
const ROUNDS = 50;

/** A small deterministic PRNG, so a failing round can be replayed from its seed. */
function prng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

function lab(dir: string) {
  const paths = {
    pip: path.join(dir, 'home/.config/pip/pip.conf'),
    uv: path.join(dir, 'home/.config/uv/uv.toml'),
    conda: path.join(dir, 'home/.condarc'),
  };
  for (const [t, p] of Object.entries(paths)) {
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, ORIGINAL[t as keyof typeof ORIGINAL]);
  }
  const read = () => Object.fromEntries(Object.entries(paths).map(([t, p]) => [t, existsSync(p) ? readFileSync(p, 'utf8') : null]));
  const leftovers = () => Object.values(paths).flatMap((p) => readdirSync(path.dirname(p)).filter((n) => n.includes('tuna-setup')));
  return { paths, stateDir: path.join(dir, 'home/.local/state/tuna-setup'), read, leftovers };
}

type Op = { kind: 'apply' | 'restore'; session: string; mirror: string };
const randomOps = (rnd: () => number, n: number): Op[] =>
  Array.from({ length: n }, () => ({
    kind: rnd() < 0.6 ? 'apply' : 'restore',
    session: SESSIONS[Math.floor(rnd() * SESSIONS.length)]!,
    mirror: MIRRORS[Math.floor(rnd() * MIRRORS.length)]!,
  }));

describe('parallel applies and restores on one HOME', () => {
  const workers: ChildProcess[] = [];
  beforeAll(() => {
    for (let i = 0; i < WORKERS; i++) workers.push(fork(path.resolve(import.meta.dirname, '../helpers/journal-worker.mjs'), { stdio: 'inherit' }));
  });
  afterAll(() => {
    for (const w of workers) w.kill();
  });

  const ask = (w: ChildProcess, msg: unknown) =>
    new Promise<{ results: (Op & { ok: boolean; code?: string; message?: string })[] }>((resolve) => {
      w.once('message', resolve as (m: unknown) => void);
      w.send(msg as never);
    });

  async function rounds(count: number, lock: 'flock' | 'file') {
    const dir = tempDir('tuna-conc-');
    let clean = 0;
    for (let round = 0; round < count; round++) {
      const l = lab(path.join(dir, `r${round}`));
      const rnd = prng(round + 1);
      const replies = await Promise.all(workers.map((w) => ask(w, { ops: randomOps(rnd, 3), paths: l.paths, stateDir: l.stateDir, lock })));
      for (const r of replies.flatMap((x) => x.results)) {
        // the only acceptable failure: restoring a session that has nothing applied (yet, or any more)
        if (!r.ok) expect(r.code, `round ${round}: ${r.kind} ${r.session}: ${r.message}`).toBe('JOURNAL_MISSING');
      }
      if (existsSync(journalFile(l.stateDir))) await restoreMirror(l.stateDir, { all: true });
      expect(l.read(), `round ${round} (seed ${round + 1})`).toEqual(ORIGINAL);
      expect(existsSync(journalFile(l.stateDir))).toBe(false);
      expect(existsSync(lockFile(l.stateDir))).toBe(false);
      expect(l.leftovers()).toEqual([]);
      expect(readdirSync(l.stateDir)).toEqual([]);
      clean++;
    }
    expect(clean).toBe(count);
  }

  it(`${WORKERS} processes, ${ROUNDS} rounds (flock): restore --all always gives the original bytes`, () => rounds(ROUNDS, 'flock'), 240_000);
  it(`${WORKERS} processes, 10 rounds with the lock-file fallback (no flock: macOS, Windows)`, () => rounds(10, 'file'), 120_000);

  it('real CLI processes at once (apply/restore in sessions, 3 rounds of 16)', async () => {
    const dir = tempDir('tuna-conc-cli-');
    const cli = (args: string[], cwd: string) =>
      new Promise<CliResult>((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], {
          cwd,
          env: {
            ...process.env,
            HOME: path.join(cwd, 'home'),
            XDG_CONFIG_HOME: path.join(cwd, 'home/.config'),
            XDG_STATE_HOME: path.join(cwd, 'home/.local/state'),
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, json: () => JSON.parse(stdout) }));
      });
    for (let round = 0; round < 3; round++) {
      const cwd = path.join(dir, `r${round}`);
      const l = lab(cwd);
      const rnd = prng(1000 + round);
      const ops = randomOps(rnd, 16);
      const results = await Promise.all(
        ops.map((op) =>
          cli(op.kind === 'apply' ? ['apply', '--mirror', op.mirror, '--session', op.session, '--json'] : ['restore', '--session', op.session, '--json'], cwd),
        ),
      );
      for (const [i, r] of results.entries()) {
        if (r.code !== 0) expect(r.json().error.code, `${ops[i]!.kind}: ${r.stderr}`).toBe('JOURNAL_MISSING');
        else expect(r.json()).toHaveProperty(ops[i]!.kind === 'apply' ? 'changes' : 'restored');
      }
      const all = await cli(['restore', '--all', '--json'], cwd);
      expect([0, 1]).toContain(all.code);
      expect(l.read(), `CLI round ${round}`).toEqual(ORIGINAL);
      expect(l.leftovers()).toEqual([]);
    }
  }, 120_000);
});

describe('two Action jobs overlapping on one self-hosted HOME', () => {
  for (const order of [
    ['A', 'B'],
    ['B', 'A'],
  ] as const) {
    it(`main A, main B, post ${order[0]}, post ${order[1]}: the user's configs come back byte for byte`, async () => {
      const a = newRunner('self-hosted');
      const b = newRunner('self-hosted', { home: a.home });
      const pip = path.join(a.home, '.config/pip/pip.conf');
      mkdirSync(path.dirname(pip), { recursive: true });
      writeFileSync(pip, ORIGINAL.pip);
      const mainA = await a.main({ mirror: 'tuna', cache: 'false' });
      expect(mainA.code, mainA.log).toBe(0);
      const mainB = await b.main({ mirror: 'ustc', cache: 'false' });
      expect(mainB.code, mainB.log).toBe(0);
      expect(readFileSync(pip, 'utf8')).toContain('mirrors.ustc.edu.cn');
      const first = order[0] === 'A' ? await a.post(mainA) : await b.post(mainB);
      expect(first.code, first.log).toBe(0);
      // the job still running keeps its mirror
      expect(readFileSync(pip, 'utf8')).toContain(order[0] === 'A' ? 'mirrors.ustc.edu.cn' : 'tuna.tsinghua.edu.cn');
      const second = order[1] === 'A' ? await a.post(mainA) : await b.post(mainB);
      expect(second.code, second.log).toBe(0);
      expect(readFileSync(pip, 'utf8')).toBe(ORIGINAL.pip);
      expect(existsSync(path.join(a.home, '.condarc'))).toBe(false);
      expect(existsSync(path.join(a.home, '.local/state/tuna-setup/journal.json'))).toBe(false);
    }, 60_000);
  }
});
