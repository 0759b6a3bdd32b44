import { describe, expect, it } from 'vitest';
import { cliVersionOf, echoesRequestedModel } from '../../src/proxy/cli-compat.js';

describe('which CLI sent a request', () => {
  it('reads the version from the User-Agent the CLI sends; other clients have none', () => {
    expect(cliVersionOf('claude-cli/2.1.197 (external, sdk-cli)')).toEqual([2, 1, 197]);
    expect(cliVersionOf('claude-cli/2.1.330 (external, cli)')).toEqual([2, 1, 330]);
    expect(cliVersionOf('Anthropic/JS 0.60.0')).toBeNull();
    expect(cliVersionOf(undefined)).toBeNull();
  });

  it("answers older CLIs with the model they asked for, so they send thinking blocks back; 2.1.330 on and other clients get the provider's", () => {
    expect(echoesRequestedModel('claude-cli/2.1.197 (external, sdk-cli)')).toBe(true);
    expect(echoesRequestedModel('claude-cli/1.0.98 (external, cli)')).toBe(true);
    expect(echoesRequestedModel('claude-cli/2.1.330 (external, sdk-cli)')).toBe(false);
    expect(echoesRequestedModel('claude-cli/2.2.0 (external, cli)')).toBe(false);
    expect(echoesRequestedModel('curl/8.0')).toBe(false);
  });
});
