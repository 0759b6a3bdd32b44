import type { PlatformModule } from '../platform-module.js';
import { createWebPlatform } from './adapter.js';
import { readWebConfig, type WebConfig } from './config.js';
import { webHtml } from './dialect.js';

// The web console's entry: the module the registry holds, and what the relay and tests use of this folder.
// It is not chosen by MESSAGING_PLATFORM: WEB_CONSOLE (on by default) says whether it runs.

export const webModule: PlatformModule<WebConfig> = {
  id: 'web',
  label: 'Web console',
  selectedBy: ['WEB_CONSOLE'],
  dialect: webHtml,
  // Commands are typed (or pressed as buttons on the page); there is no menu to register.
  commands: [],
  readConfig: readWebConfig,
  // The token is the proxy's, already scrubbed from the log.
  secrets: () => [],
  create: (config, deps) =>
    createWebPlatform({
      config,
      logger: deps.logger,
      ...(deps.conversations === undefined ? {} : { conversations: deps.conversations }),
    }),
};

export { createWebPlatform, type WebPlatform } from './adapter.js';
export type { WebConfig } from './config.js';
export { escapeHtml, webHtml } from './dialect.js';
export { WEB_MAX_LENGTH } from './limits.js';
