/**
 * Real pip reads what tuna-setup wrote: `pip config list` shows it, and
 * `pip download` / `pip install --target` fetch through the index it names
 * (a PEP 503 index on loopback; asserted on the server's access log).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect } from 'vitest';
import { runCliAsync } from '../helpers/cli.js';
import { itWith } from '../helpers/env.js';
import { isolatedPipEnv, startPypi } from '../helpers/pypi.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const pip = (env: NodeJS.ProcessEnv, ...args: string[]) => run('python3', ['-m', 'pip', ...args], { env, timeout: 60_000 });

const LIVED_IN_PIP = '# team defaults\n[global]\ntimeout = 60\n\n[install]\n; keep site clean\nno-user = true\n';

describe('pip reads the config tuna-setup writes', () => {
  const needsPip = itWith({ bins: ['python3'] });

  needsPip('apply --mirror tuna shows in pip config list; restore puts back the exact bytes', async () => {
    const home = tempDir();
    const env = isolatedPipEnv(home);
    const conf = path.join(home, '.config/pip/pip.conf');
    mkdirSync(path.dirname(conf), { recursive: true });
    writeFileSync(conf, LIVED_IN_PIP);

    const applied = await runCliAsync(['apply', '--mirror', 'tuna', '--targets', 'pip,uv,conda', '--json'], env);
    expect(applied.code, applied.stderr).toBe(0);
    const listed = (await pip(env, 'config', 'list')).stdout;
    expect(listed).toContain("global.index-url='https://pypi.tuna.tsinghua.edu.cn/simple'");
    expect(listed).toContain("global.timeout='60'");
    expect(listed).toContain("install.no-user='true'");

    const restored = await runCliAsync(['restore', '--json'], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(readFileSync(conf, 'utf8')).toBe(LIVED_IN_PIP);
    expect(existsSync(path.join(home, '.condarc'))).toBe(false);
    expect((await pip(env, 'config', 'list')).stdout).not.toContain('index-url');
  });

  needsPip('pip download and pip install --target go through the index named in the written config', async () => {
    const home = tempDir();
    const env = isolatedPipEnv(home);
    const pypi = await startPypi(tempDir());
    const applied = await runCliAsync(['apply', '--mirror', `${pypi.url}/simple`, '--allow-http', '--targets', 'pip', '--json'], env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.json().env.PIP_INDEX_URL).toBe(`${pypi.url}/simple`);

    const dl = path.join(home, 'dl');
    await pip(env, 'download', '--no-deps', '-d', dl, 'tunademo==1.0');
    expect(existsSync(path.join(dl, pypi.wheel))).toBe(true);
    const target = path.join(home, 'site');
    await pip(env, 'install', '--no-deps', '--target', target, 'tunademo');
    expect(existsSync(path.join(target, 'tunademo/__init__.py'))).toBe(true);
    expect(pypi.log).toContain('GET /simple/tunademo/');
    expect(pypi.log).toContain(`GET /packages/${pypi.wheel}`);
  });

  itWith({ root: true, bins: ['python3', 'unshare', 'mount'] })(
    'trusted-host is what lets pip use a named http mirror (opt-in only)',
    async () => {
      const home = tempDir();
      const env = isolatedPipEnv(home);
      const pypi = await startPypi(tempDir());
      const hosts = path.join(home, 'hosts');
      copyFileSync('/etc/hosts', hosts);
      writeFileSync(hosts, `${readFileSync(hosts, 'utf8')}\n127.0.0.1 mirror.test\n`);
      const index = `http://mirror.test:${pypi.port}/simple`;
      // pip inside a private mount namespace where mirror.test resolves to loopback
      const pipAtMirror = (...args: string[]) =>
        run('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec python3 -m pip "$@"', hosts, ...args], { env, timeout: 60_000 });

      const refused = await runCliAsync(['apply', '--mirror', index, '--targets', 'pip'], env);
      expect(refused.code).toBe(2); // a usage error: the opt-in is missing
      expect(refused.stderr).toMatch(/plain http[\s\S]*--allow-http/);

      const applied = await runCliAsync(['apply', '--mirror', index, '--allow-http', '--targets', 'pip'], env);
      expect(applied.code, applied.stderr).toBe(0);
      const conf = path.join(home, '.config/pip/pip.conf');
      expect(readFileSync(conf, 'utf8')).toContain(`trusted-host = mirror.test:${pypi.port}`);
      await pipAtMirror('download', '--no-deps', '-d', path.join(home, 'dl'), 'tunademo');
      expect(pypi.log).toContain(`GET /packages/${pypi.wheel}`);

      // control: the same file without trusted-host, and pip refuses the host
      writeFileSync(conf, `[global]\nindex-url = ${index}\n`);
      const r = await pipAtMirror('download', '--no-deps', '-d', path.join(home, 'dl2'), 'tunademo').catch((e) => e);
      expect(`${r.stdout}${r.stderr}`).toMatch(/not a trusted or secure host/);
    },
    60_000,
  );
});
