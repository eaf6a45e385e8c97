/** The CLI contract of `doctor`: --json shape, --sysroot, works with no GPU and no Docker. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const H100 = path.resolve(import.meta.dirname, '../fixtures/gpu/h100-580');

describe('tuna-setup doctor', () => {
  it('--json reports the GPU from --sysroot, and Docker as unavailable without an engine', () => {
    const home = tempDir();
    const t0 = Date.now();
    const r = runCli(['doctor', '--json', '--sysroot', H100], {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      PATH: '/usr/bin:/bin',
      DOCKER_HOST: `unix://${home}/no.sock`,
    });
    expect(r.code, r.stderr).toBe(0);
    // a missing nvidia-smi must not leave a timer keeping the process alive (it once took 15 s)
    expect(Date.now() - t0).toBeLessThan(5_000);
    const out = r.json();
    expect(out.gpu).toMatchObject({ driver: '580.159.04', driverSource: 'sysfs', cudaMax: '13.0', gpus: [] });
    expect(out.docker.available).toBe(false);
    expect(out.docker.error).toBeTruthy();
    expect(out.configs.pip).toEqual({ path: path.join(home, '.config/pip/pip.conf'), exists: false, urls: [] });
    expect(Object.keys(out)).toEqual(['os', 'gpu', 'docker', 'configs']);
  });

  it('shows where tools point after apply, in words', () => {
    const home = tempDir();
    const env = { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_STATE_HOME: path.join(home, '.state'), PATH: '/usr/bin:/bin' };
    expect(runCli(['apply', '--mirror', 'tuna', '--targets', 'pip,conda'], env).code).toBe(0);
    const r = runCli(['doctor', '--sysroot', tempDir()], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/driver: +none \(CPU only\)/);
    expect(r.stdout).toMatch(/pip +https:\/\/pypi\.tuna\.tsinghua\.edu\.cn\/simple/);
    expect(r.stdout).toMatch(/conda +https:\/\/mirrors\.tuna\.tsinghua\.edu\.cn\/anaconda\/pkgs\/main/);
  });
});
