import { describe, expect, it } from 'vitest';
import { renderDaemonJson } from '@tuna-setup/sdk/config';

const M = 'https://docker.m.example.com';

describe('renderDaemonJson', () => {
  it('creates registry-mirrors in an empty file', () => {
    expect(renderDaemonJson('', { registryMirrors: [M] })).toBe(`{\n  "registry-mirrors": [\n    "${M}"\n  ]\n}\n`);
  });

  it("prepends ours, de-duplicates, keeps the user's mirrors, keys, order and indentation", () => {
    const before =
      '{\n    "log-driver": "json-file",\n    "registry-mirrors": ["https://mine.example", "https://docker.m.example.com/"],\n    "runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}\n}\n';
    const out = renderDaemonJson(before, { registryMirrors: [M] });
    const data = JSON.parse(out);
    expect(Object.keys(data)).toEqual(['log-driver', 'registry-mirrors', 'runtimes']);
    expect(data['registry-mirrors']).toEqual([M, 'https://mine.example']);
    expect(data.runtimes.nvidia.path).toBe('nvidia-container-runtime');
    expect(out).toContain('\n    "log-driver"');
  });

  it('is idempotent and leaves an already-right file byte for byte', () => {
    const before = `{"registry-mirrors": ["${M}"]}`;
    expect(renderDaemonJson(before, { registryMirrors: [M] })).toBe(before);
  });

  it('refuses broken JSON naming file and line', () => {
    expect(() => renderDaemonJson('{\n  "debug": true,\n}\n', { registryMirrors: [M] }, '/etc/docker/daemon.json')).toThrow(/^\/etc\/docker\/daemon.json:3: /);
  });

  it('refuses registry-mirrors that is not a list', () => {
    expect(() => renderDaemonJson('{"registry-mirrors": "x"}', { registryMirrors: [M] })).toThrow(/registry-mirrors is not a list/);
  });
});
