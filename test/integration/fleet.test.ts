/**
 * The fleet recipe's manifests (examples/fleet/, docs/fleet.md) are what
 * Kubernetes accepts and what tuna-setup accepts: each is validated against
 * the Kubernetes API schema (kubernetes-models: validators generated from the
 * Kubernetes OpenAPI spec), and the DaemonSet's arguments are run — with its
 * host paths moved under a temporary directory — as a dry run that must plan
 * the hosts.toml files. No cluster runs here.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const root = path.resolve(import.meta.dirname, '../..');
const manifest = (name: string) => {
  const docs = parseAllDocuments(readFileSync(path.join(root, 'examples/fleet', name), 'utf8'));
  expect(docs.every((d) => d.errors.length === 0)).toBe(true);
  return docs.map((d) => d.toJS());
};

describe('the fleet recipe', () => {
  it('node-mirrors.yaml is a valid DaemonSet whose tuna-setup arguments plan containerd hosts.toml files', async () => {
    const [ds] = manifest('node-mirrors.yaml');
    expect(() => new DaemonSet(ds).validate()).not.toThrow();
    const init = ds.spec.template.spec.initContainers[0];
    // the host, under a temporary directory
    const host = tempDir();
    mkdirSync(path.join(host, 'etc/containerd'), { recursive: true });
    const args = (init.args as string[]).map((a) => a.replace(/^\/host\//, `${host}/`));
    const r = await runCliAsync([...args, '--dry-run', '--json'], { HOME: host });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().changes.map((c: { path: string }) => path.relative(host, c.path))).toEqual([
      'etc/containerd/certs.d/docker.io/hosts.toml',
      'etc/containerd/certs.d/nvcr.io/hosts.toml',
      'etc/containerd/certs.d/ghcr.io/hosts.toml',
    ]);
    // every path it writes is a mounted host path
    const mounts = (init.volumeMounts as { mountPath: string }[]).map((m) => m.mountPath);
    for (const flag of ['--containerd-dir', '--state-dir']) {
      const value = init.args[init.args.indexOf(flag) + 1] as string;
      expect(mounts.some((m) => value.startsWith(m))).toBe(true);
    }
  });

  it('sync-images.yaml is a valid CronJob that runs images plan and images sync', () => {
    const [job] = manifest('sync-images.yaml');
    expect(() => new CronJob(job).validate()).not.toThrow();
    const script = job.spec.jobTemplate.spec.template.spec.containers[0].args.join(' ');
    expect(script).toMatch(/tuna-setup images plan .* --json > \/tmp\/plan\.json && tuna-setup images sync --to \S+ --plan \/tmp\/plan\.json/);
  });

  it('the schema check can fail: a DaemonSet without a selector is refused', () => {
    const [ds] = manifest('node-mirrors.yaml');
    delete ds.spec.selector;
    expect(() => new DaemonSet(ds).validate()).toThrow(/selector/);
  });
});
