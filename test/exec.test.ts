import { describe, expect, it } from 'vitest';
import { exec } from '@tuna-setup/sdk';

describe('exec', () => {
  it('passes argv through without a shell', async () => {
    const r = await exec(['printf', '%s|', 'a b', '$(echo no)', ';rm -rf /']);
    expect(r).toEqual({ code: 0, stdout: 'a b|$(echo no)|;rm -rf /|', stderr: '' });
  });
  it('answers 127 for a command that is not installed', async () => {
    expect((await exec(['tuna-setup-no-such-command'])).code).toBe(127);
  });
  it('kills a command past its timeout and answers 124', async () => {
    const t0 = Date.now();
    expect((await exec(['sleep', '10'], { timeoutMs: 200 })).code).toBe(124);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
