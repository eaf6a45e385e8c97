// docker pull's retries (net/retry.ts, shared with the registry client): a
// transient failure is tried again after a doubling backoff, a missing image
// fails at once. The docker CLI here is a stand-in that fails as the real
// one prints (the real pull is tested against dockerd in test/action/run.test.ts).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullImage } from '@tuna-setup/sdk/docker';
import { tempDir } from '../helpers/tmp.js';

function fakeDocker(failures: number, message: string) {
  const dir = tempDir('fake-docker-');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const count = path.join(dir, 'count');
  writeFileSync(
    path.join(bin, 'docker'),
    `#!/bin/sh
n=$(cat ${count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${count}
if [ $n -le ${failures} ]; then echo "${message}" >&2; exit 1; fi
echo "pulled"
`,
  );
  chmodSync(path.join(bin, 'docker'), 0o755);
  return { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, calls: () => (existsSync(count) ? Number(readFileSync(count, 'utf8')) : 0) };
}

describe('pullImage', () => {
  it('retries a transient failure with a doubling backoff, saying so', async () => {
    const d = fakeDocker(2, 'Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: TLS handshake timeout');
    const lines: string[] = [];
    await pullImage('busybox', { env: d.env, backoffMs: 10, log: (l) => lines.push(l) });
    expect(d.calls()).toBe(3);
    expect(lines).toEqual([
      expect.stringMatching(/^pull busybox failed \(.*TLS handshake timeout\); retrying in 0\.01 s \(1\/4\)$/),
      expect.stringMatching(/retrying in 0\.02 s \(2\/4\)$/),
    ]);
  });
  it('gives up after its attempts, naming the last failure; a missing image fails at once', async () => {
    const flaky = fakeDocker(9, 'Error response from daemon: received unexpected HTTP status: 503 Service Unavailable');
    await expect(pullImage('busybox', { env: flaky.env, backoffMs: 1, attempts: 3 })).rejects.toMatchObject({
      code: 'PULL_FAILED',
      message: 'cannot pull busybox: Error response from daemon: received unexpected HTTP status: 503 Service Unavailable',
    });
    expect(flaky.calls()).toBe(3);
    const missing = fakeDocker(9, 'Error response from daemon: manifest for busybox:nope not found: manifest unknown');
    await expect(pullImage('busybox:nope', { env: missing.env, backoffMs: 1 })).rejects.toMatchObject({
      code: 'PULL_FAILED',
      hint: expect.stringMatching(/check the image name and tag/),
    });
    expect(missing.calls()).toBe(1);
  });
});
