// The SDK's public API is a reviewed file (issue: the SDK as a product): the
// committed packages/sdk/api-report.md must match the built declarations, so a
// change of public API shows in review; and every root export is documented.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the public API report', () => {
  it('is up to date with the built declarations (node scripts/api-report.mjs regenerates it)', () => {
    expect(() => execFileSync(process.execPath, [path.join(ROOT, 'scripts/api-report.mjs'), '--check'], { encoding: 'utf8', stdio: 'pipe' })).not.toThrow();
  });
  it('the root exports at most 30 names, each with a doc comment', () => {
    const report = readFileSync(path.join(ROOT, 'packages/sdk/api-report.md'), 'utf8');
    const rootSection = report.split('\n## ')[1]!;
    const names = rootSection.split('\n').filter((l) => l.startsWith('- '));
    expect(names.length).toBeGreaterThan(20);
    expect(names.length).toBeLessThanOrEqual(30);
    expect(names.filter((l) => l.includes('undocumented'))).toEqual([]);
  });
});
