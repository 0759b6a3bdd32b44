import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configured, type PlatformsConfig, telegramModule } from '../../platforms/index.js';
import {
  textReply,
  toolCallReply,
  toolResults,
  type UpstreamReply,
  type UpstreamRequest,
} from '../fakes/openai-upstream.js';
import { answerText, startTelegramDriver, TELEGRAM_USER } from '../platforms/chat-drivers.js';
import { type RelayRig, startRelayRig } from '../platforms/relay-rig.js';

// The default skip mode (nobody approves tool calls) still brings the model's questions to the chat as buttons:
// the real CLI in skip mode, with the sandbox (its acceptEdits mode) and without it (bypassPermissions), through
// the embedded proxy to a scripted upstream, on the Telegram fake.

const WAIT = { timeout: 90_000, interval: 100 };

const COLOR = {
  question: 'Which color should the button be?',
  header: 'Color',
  options: [
    { label: 'Blue', description: 'Calm default' },
    { label: 'Red', description: 'Loud' },
  ],
  multiSelect: false,
};

/**
 * The model tries to enter plan mode (as the CLI's instructions urge), asks, then runs a Bash command, then writes
 * outside the workspace, then reports every tool result.
 */
const asker =
  (rig: () => RelayRig, marker: string, outside: string) =>
  (request: UpstreamRequest): UpstreamReply => {
    const results = toolResults(request.body).slice(1);
    if (toolResults(request.body).length === 0)
      return toolCallReply([{ name: 'EnterPlanMode', arguments: {} }]);
    if (results.length === 0) {
      return toolCallReply([{ name: 'AskUserQuestion', arguments: { questions: [COLOR] } }]);
    }
    if (results.length === 1) {
      const file = join(rig().workspace, `${marker}.txt`);
      return toolCallReply([
        { name: 'Bash', arguments: { command: `touch ${file} && echo RAN`, description: 'Touch a file' } },
      ]);
    }
    if (results.length === 2) {
      return toolCallReply([
        { name: 'Write', arguments: { file_path: join(outside, `${marker}.txt`), content: 'out\n' } },
      ]);
    }
    return textReply(`RESULT ${marker}: ${results.join(' | ')}`);
  };

const telegramOnly =
  (telegram: Awaited<ReturnType<typeof startTelegramDriver>>) =>
  (rate: PlatformsConfig['rateLimit']): PlatformsConfig => ({
    platforms: ['telegram'],
    configured: [
      configured(telegramModule, {
        token: telegram.fake.token,
        allowedUserIds: [String(TELEGRAM_USER)],
        apiRoot: telegram.fake.apiRoot,
      }),
    ],
    rateLimit: rate,
  });

describe.each([
  { sandbox: 'auto', name: 'sandbox as the machine has it (acceptEdits where bubblewrap runs)' },
  { sandbox: 'off', name: 'sandbox off (--dangerously-skip-permissions)' },
])('skip mode, $name: questions as buttons, nothing else asks (e2e, real CLI)', ({ sandbox }) => {
  let telegram: Awaited<ReturnType<typeof startTelegramDriver>>;
  let rig: RelayRig;
  const outside = mkdtempSync(join(tmpdir(), 'skip-outside-'));
  const marker = `SKIP_${sandbox.toUpperCase()}`;

  beforeAll(async () => {
    telegram = await startTelegramDriver();
    rig = await startRelayRig({
      replies: { [marker]: asker(() => rig, marker, outside) },
      messaging: telegramOnly(telegram),
      transcript: () => '',
      env: { CLAUDE_SANDBOX: sandbox },
    });
  });
  afterAll(async () => {
    await rig?.stop();
    await telegram?.close();
  });

  it('the tapped option reaches the model; Bash then runs without a prompt', async () => {
    const user = telegram.send(`please ${marker}`);
    const withButtons = () => telegram.fake.botMessages(TELEGRAM_USER).filter((m) => m.buttons.length > 0);
    await vi.waitFor(() => expect(withButtons()).toHaveLength(1), WAIT);
    const question = withButtons()[0]!;
    expect(question.history.at(-1)).toContain('Which color should the button be?');
    expect(question.buttons.map((b) => b.text)).toEqual(['Blue', 'Red', 'Other…']);
    const blue = question.buttons.find((b) => b.text === 'Blue')!;
    telegram.fake.pressButton({
      userId: TELEGRAM_USER,
      messageId: question.messageId,
      callbackData: blue.callbackData,
    });
    await vi.waitFor(() => expect(answerText(telegram, user)).toContain(`RESULT ${marker}`), WAIT);
    const answer = answerText(telegram, user);
    // The upstream got the answer as the tool result of the question.
    expect(
      rig
        .requestsFor(marker)
        .some((body) =>
          toolResults(body).some((result) => result.includes('"Which color should the button be?"="Blue"')),
        ),
    ).toBe(true);
    // Plan mode is not the model's to enter here: a plan nobody approved would leave every write refused.
    expect(toolResults(rig.requestsFor(marker).at(-1)).at(0)).toContain('EnterPlanMode is disabled');
    expect(answer).toContain('RAN');
    expect(existsSync(join(rig.workspace, `${marker}.txt`))).toBe(true);
    // No 🔐 prompt ever came: the question was the only message with buttons.
    expect(withButtons().filter((m) => m.messageId !== question.messageId)).toEqual([]);
    expect(telegram.fake.botMessages(TELEGRAM_USER).some((m) => m.history.join().includes('🔐'))).toBe(false);
    // What the relay resolved: `auto` is off where bubblewrap cannot start.
    if (rig.engine.stats().sandbox?.state !== 'on') {
      // bypassPermissions: the write outside runs too, as in skip mode before.
      expect(existsSync(join(outside, `${marker}.txt`))).toBe(true);
    } else {
      // The sandbox holds writes to the session's directories; the model is told, the user is not asked.
      expect(existsSync(join(outside, `${marker}.txt`))).toBe(false);
      expect(answer).toContain('Claude requested permissions to use Write');
    }
  });
});
