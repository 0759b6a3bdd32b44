import { expect, it } from 'vitest';

/**
 * Tests that need a system tool (ffmpeg, redis-server, postgres …) skip on a developer's machine without it; in CI
 * (`CI=true`, where .ci/run installs every tool) this test fails instead, so a run that skipped them cannot pass.
 */
export function requireToolsInCi(missing: string[]): void {
  it(`has the tools these tests need (${missing.length ? `missing: ${missing.join(', ')}` : 'all present'})`, (context) => {
    if (missing.length > 0 && process.env.CI !== 'true') context.skip();
    expect(missing).toEqual([]);
  });
}
