/**
 * What the machine offers a test: root, binaries. A test that needs what is
 * missing is skipped with the reason — unless TUNA_SETUP_REQUIRE_ALL=1 (set by
 * .ci/run), where the missing piece fails the test instead, so CI always runs
 * the real-client tests.
 */
import { execFileSync } from 'node:child_process';
import { it } from 'vitest';

export function which(bin: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Why this machine cannot run a test needing `bins` (and root, if asked); undefined when it can. */
export function missing(needs: { root?: boolean; bins?: string[] }): string | undefined {
  if (needs.root && process.getuid?.() !== 0) return 'needs root';
  const absent = (needs.bins ?? []).filter((b) => !which(b));
  return absent.length ? `needs ${absent.join(', ')} (apt-get install docker.io containerd podman docker-registry skopeo umoci busybox-static)` : undefined;
}

/** `it`, or a skip naming what is missing; under TUNA_SETUP_REQUIRE_ALL=1 the missing piece is a failure. */
export function itWith(needs: { root?: boolean; bins?: string[] }) {
  const why = missing(needs);
  if (!why) return it;
  if (process.env.TUNA_SETUP_REQUIRE_ALL === '1') {
    return (name: string, _fn: unknown, _timeout?: number) =>
      it(name, () => {
        throw new Error(`cannot run: ${why} (TUNA_SETUP_REQUIRE_ALL=1)`);
      });
  }
  return (name: string, _fn: unknown, _timeout?: number) => it.skip(`${name} [skipped: ${why}]`, () => {});
}
