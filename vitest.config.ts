import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// The link lab measures real links (packet delay, htb, slow-start rounds timed at the reader). Other test
// files running beside it on a 2-core machine steal the CPU its timing needs, so it runs last, alone; and a
// measurement is retried up to twice: on this noisy box about one run in five misjudges a link, three in a
// row is a regression.
const TIMING = ['test/probe/link-lab.test.ts'];

export default defineConfig({
  resolve: {
    // unit tests run against the SDK's source (the root and its subpaths: /probe → src/probe/index.ts); CLI tests run the built CLI
    alias: [
      { find: /^@tuna-setup\/sdk$/, replacement: fileURLToPath(new URL('./packages/sdk/src/index.ts', import.meta.url)) },
      { find: /^@tuna-setup\/sdk\/([a-z]+)$/, replacement: `${fileURLToPath(new URL('./packages/sdk/src/', import.meta.url))}$1/index.ts` },
    ],
  },
  test: {
    // one line, before any test, naming what this machine lacks and so which tests are skipped
    globalSetup: ['test/helpers/report-skips.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...TIMING], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'timing', include: TIMING, fileParallelism: false, retry: 2, sequence: { groupOrder: 1 } } },
    ],
  },
});
