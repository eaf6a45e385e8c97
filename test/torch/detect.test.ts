/**
 * Driver and GPU detection against real-format files captured on an H100
 * machine (test/fixtures/gpu/h100-580) and a stand-in `nvidia-smi` on PATH
 * that answers the way the real one does — including an old driver's
 * refusal of `compute_cap` and a machine with no devices.
 */
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectGpu, nativeCudaForDriver, parseNvidiaSmiQuery, parseProcDriverVersion } from '@tuna-setup/sdk/torch';
import { tempDir } from '../helpers/tmp.js';

const H100 = path.resolve(import.meta.dirname, '../fixtures/gpu/h100-580');
const H100_QUERY = readFileSync(path.join(H100, 'nvidia-smi-query.txt'), 'utf8');
const BAD_FIELD = readFileSync(path.join(H100, 'nvidia-smi-bad-field.txt'), 'utf8');

/** A PATH holding a stand-in nvidia-smi whose answers are given per case. */
function fakeSmi(mode: 'h100' | 'old-driver' | 'no-devices' | 'two-gpus' | 'none'): NodeJS.ProcessEnv {
  const dir = tempDir('fake-smi-');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  if (mode !== 'none') {
    const answers: Record<string, string> = {
      h100: `printf '%s' '${H100_QUERY}'`,
      'two-gpus': `printf '535.183.01, NVIDIA GeForce RTX 3090, 8.6, 24576\\n535.183.01, Tesla V100-SXM2-32GB, 7.0, 32768\\n'`,
      'old-driver': `case "$1" in *compute_cap*) printf '%s' '${BAD_FIELD.replace('no_such_field', 'compute_cap')}'; exit 2;; esac
printf '470.256.02, NVIDIA GeForce GTX 1080, 8192\\n'`,
      'no-devices': `echo 'No devices were found'; exit 6`,
    };
    writeFileSync(path.join(bin, 'nvidia-smi'), `#!/bin/sh\n${answers[mode]}\n`);
    chmodSync(path.join(bin, 'nvidia-smi'), 0o755);
  }
  return { PATH: `${bin}:/usr/bin:/bin` };
}

function sysroot(files: { sys?: string; proc?: string } = {}): string {
  const root = tempDir('sysroot-');
  if (files.sys !== undefined) {
    mkdirSync(path.join(root, 'sys/module/nvidia'), { recursive: true });
    writeFileSync(path.join(root, 'sys/module/nvidia/version'), files.sys);
  }
  if (files.proc !== undefined) {
    mkdirSync(path.join(root, 'proc/driver/nvidia'), { recursive: true });
    writeFileSync(path.join(root, 'proc/driver/nvidia/version'), files.proc);
  }
  return root;
}

describe('detectGpu', () => {
  it('reads the H100 machine: driver from sysfs, GPU from nvidia-smi, CUDA 13.0', async () => {
    const root = tempDir('sysroot-');
    cpSync(path.join(H100, 'sys'), path.join(root, 'sys'), { recursive: true });
    cpSync(path.join(H100, 'proc'), path.join(root, 'proc'), { recursive: true });
    const r = await detectGpu({ sysroot: root, env: fakeSmi('h100') });
    expect(r).toEqual({
      driver: '580.159.04',
      driverSource: 'sysfs',
      cudaMax: '13.0',
      gpus: [{ name: 'NVIDIA H100 80GB HBM3', computeCapability: '9.0', memoryMiB: 81559 }],
      notes: [],
    });
  });

  it('falls back to /proc/driver/nvidia/version (open kernel module line) in a container without nvidia-smi', async () => {
    const root = sysroot({ proc: readFileSync(path.join(H100, 'proc/driver/nvidia/version'), 'utf8') });
    const r = await detectGpu({ sysroot: root, env: fakeSmi('none') });
    expect([r.driver, r.driverSource, r.cudaMax, r.gpus]).toEqual(['580.159.04', 'procfs', '13.0', []]);
    expect(r.notes).toEqual(['nvidia-smi: not found on PATH']);
  });

  it('reads the proprietary kernel module line too', () => {
    expect(
      parseProcDriverVersion(
        'NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.154.05  Thu Dec 28 15:37:48 UTC 2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n',
      ),
    ).toBe('535.154.05');
    expect(
      parseProcDriverVersion('NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  570.124.06  Release Build  (dvs-builder@U16)  Wed Feb 26 2025\n'),
    ).toBe('570.124.06');
    expect(parseProcDriverVersion('garbage\n')).toBeNull();
  });

  it('TUNA_SETUP_DRIVER_VERSION wins over every file', async () => {
    const r = await detectGpu({ sysroot: sysroot({ sys: '580.159.04\n' }), env: { ...fakeSmi('none'), TUNA_SETUP_DRIVER_VERSION: '535.183.01' } });
    expect([r.driver, r.driverSource, r.cudaMax]).toEqual(['535.183.01', 'env', '12.2']);
  });

  it('ignores a malformed override, and says so', async () => {
    const r = await detectGpu({ sysroot: sysroot({ sys: '550.144.03' }), env: { ...fakeSmi('none'), TUNA_SETUP_DRIVER_VERSION: 'latest' } });
    expect([r.driver, r.driverSource]).toEqual(['550.144.03', 'sysfs']);
    expect(r.notes[0]).toMatch(/TUNA_SETUP_DRIVER_VERSION='latest' is not a driver version/);
  });

  it('asks again without compute_cap when an old driver refuses it', async () => {
    const r = await detectGpu({ sysroot: sysroot(), env: fakeSmi('old-driver') });
    expect(r.driver).toBe('470.256.02');
    expect(r.driverSource).toBe('nvidia-smi');
    expect(r.cudaMax).toBe('11.4');
    expect(r.gpus).toEqual([{ name: 'NVIDIA GeForce GTX 1080', computeCapability: null, memoryMiB: 8192 }]);
    expect(r.notes).toContain('nvidia-smi: this driver cannot report compute_cap; compute capability unknown');
  });

  it('lists every GPU of a mixed rig', async () => {
    const r = await detectGpu({ sysroot: sysroot(), env: fakeSmi('two-gpus') });
    expect(r.gpus.map((g) => g.computeCapability)).toEqual(['8.6', '7.0']);
  });

  it('reports no GPU, with the reason, when nvidia-smi finds no devices', async () => {
    const r = await detectGpu({ sysroot: sysroot(), env: fakeSmi('no-devices') });
    expect([r.driver, r.cudaMax, r.gpus]).toEqual([null, null, []]);
    expect(r.notes).toEqual(['nvidia-smi: exit 6: No devices were found', 'no NVIDIA driver found: CPU only']);
  });

  it('parses a GPU name that contains a comma', () => {
    expect(parseNvidiaSmiQuery('550.54.15, NVIDIA RTX A6000, Ada, 8.9, 49140\n', true).gpus[0]!.name).toBe('NVIDIA RTX A6000, Ada');
  });
});

describe('nativeCudaForDriver (NVIDIA Table 3)', () => {
  const cases: [string, string | null][] = [
    ['580.159.04', '13.0'], // the H100 machine; its nvidia-smi says "CUDA Version: 13.0"
    ['595.45.04', '13.2'],
    ['590.48.01', '13.1'],
    ['580.65.06', '13.0'],
    ['580.65.05', '12.9'],
    ['575.57.08', '12.9'],
    ['570.124.06', '12.8'],
    ['565.57.01', '12.6'],
    ['560.35.05', '12.6'],
    ['550.144.03', '12.4'],
    ['535.183.01', '12.2'],
    ['525.60.13', '12.0'],
    ['470.256.02', '11.4'],
    ['418.39', '10.1'],
    ['390.157', null],
  ];
  for (const [driver, cuda] of cases) it(`${driver} → ${cuda}`, () => expect(nativeCudaForDriver(driver)).toBe(cuda));
});
