import { type Env, flag, text } from '../../src/config.js';

export interface WebConfig {
  /** WEB_CONSOLE: the console at /ui/ on the proxy's port. */
  enabled: boolean;
  /** PROXY_AUTH_TOKEN: when set, the console asks for it once. */
  authToken: string | undefined;
}

export function readWebConfig(env: Env): WebConfig {
  return { enabled: flag(env, 'WEB_CONSOLE', true), authToken: text(env, 'PROXY_AUTH_TOKEN') };
}
