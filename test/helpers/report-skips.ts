/**
 * vitest globalSetup: say once, before any test, what this machine lacks and
 * which tests will therefore be skipped (the default reporter hides skipped
 * tests' names, where the per-test reason is). `.ci/run` installs it all.
 */
import { missing } from './env.js';

export default function setup(): void {
  const needs: Record<string, { root?: boolean; bins?: string[] }> = {
    'docker and the registry lab (Docker, run, images)': { root: true, bins: ['dockerd', 'docker-registry', 'skopeo', 'umoci', 'busybox', 'nsenter', 'ip'] },
    'the registry client against a real registry': { bins: ['docker-registry', 'skopeo', 'umoci', 'openssl', 'busybox'] },
    'the link lab (real links)': { root: true, bins: ['ip', 'tc', 'nsenter', 'cc'] },
  };
  const lines = Object.entries(needs).flatMap(([what, need]) => {
    const why = missing(need);
    return why ? [`  ${what}: ${why}`] : [];
  });
  // once per run (each vitest project runs the global setups)
  if (lines.length && process.env.TUNA_SETUP_REQUIRE_ALL !== '1' && !process.env.TUNA_SETUP_SKIPS_SAID) {
    process.env.TUNA_SETUP_SKIPS_SAID = '1';
    process.stderr.write(`tuna-setup tests: skipping what this machine cannot run (bash .ci/run installs it):\n${lines.join('\n')}\n`);
  }
}
