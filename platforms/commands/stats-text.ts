import { describeSandbox, type EngineStats } from '../../sessions/index.js';
import type { GatewayStatsSnapshot, ProviderStats, ProxyStatsSnapshot } from '../../src/common/index.js';
import { formatDuration, formatMegabytes } from '../../src/common/index.js';
import type { OutboxStats } from '../outbox/index.js';

// What /stats answers: the engine's, the chats' and the providers' counters in one Markdown list.

export function formatStats(
  engine: EngineStats,
  proxy: ProxyStatsSnapshot,
  chat?: OutboxStats,
  gateway?: GatewayStatsSnapshot | null,
): string {
  const lines = [
    '**Relay stats**',
    `- Sessions: ${engine.running} running / ${engine.maxSessions} max, ${engine.queued} queued, ${engine.totalNodes} tasks in total`,
    `- Conversations: ${engine.trees}`,
    `- Tasks by state: ${
      Object.entries(engine.byState)
        .filter(([, count]) => count > 0)
        .map(([state, count]) => `${state} ${count}`)
        .join(', ') || 'none'
    }`,
    `- Tokens: ${engine.usage.inputTokens} in, ${engine.usage.outputTokens} out, ${engine.usage.cacheReadTokens} cache read`,
    `- Errors: ${engine.errors}`,
    `- Uptime: ${formatDuration(engine.uptimeMs)}`,
  ];
  if (engine.worktrees !== undefined && engine.worktrees.count > 0) {
    lines.push(
      `- Branch worktrees: ${engine.worktrees.count}, ${formatMegabytes(engine.worktrees.bytes)} on disk`,
    );
  }
  if (engine.sandbox) lines.push(`- Sandbox: ${describeSandbox(engine.sandbox)}`);
  if (chat) {
    lines.push(
      `- Chat messages: ${chat.sent} sent, ${chat.edited} edits (${chat.coalesced} merged), ${chat.rateLimited} rate limited, ${chat.retried} retried, ${chat.failed} failed`,
    );
  }
  if (gateway) {
    const latency =
      gateway.p50Ms === null || gateway.p95Ms === null
        ? ''
        : `, answered in ${formatDuration(gateway.p50Ms)} (p50) / ${formatDuration(gateway.p95Ms)} (p95)`;
    lines.push(
      `- API gateway: ${gateway.active} running, ${gateway.queued} queued, ${gateway.answered} answered, ${gateway.failed} failed${latency}`,
    );
  }
  if (proxy.providers.length === 0) {
    lines.push('- Providers: no requests yet');
  } else {
    for (const provider of proxy.providers) {
      lines.push(
        `- Provider \`${provider.provider}\`: ${provider.requests} requests, ${provider.inputTokens} tokens in, ${provider.outputTokens} out, ${provider.errors} errors, ${provider.rateLimited} rate limited${provider.fallbacks > 0 ? `, ${provider.fallbacks} handed to a fallback` : ''}`,
      );
      if (provider.live) lines.push(`  now: ${liveLine(provider.live)}`);
    }
  }
  return lines.join('\n');
}

/** How much of the provider's budget is in use right now, and whether anything waits for it. */
function liveLine(live: NonNullable<ProviderStats['live']>): string {
  const parts = [
    `${live.windowUsed}/${live.windowLimit} requests in the last ${Math.round(live.windowMs / 1000)} s`,
    `${live.active}/${live.maxConcurrency} streams open`,
  ];
  if (live.waiting > 0) parts.push(`${live.waiting} waiting for a stream`);
  if (live.coolDownMs > 0) parts.push(`rate limited for ${Math.ceil(live.coolDownMs / 1000)} s more`);
  return parts.join(', ');
}
