import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lastUserText, textReply } from '../fakes/openai-upstream.js';
import {
  answerText,
  type ChatFakeDriver,
  type RelayOnBoth,
  repliesTo,
  startRelayOnBoth,
} from '../platforms/chat-drivers.js';
import type { RelayRig } from '../platforms/relay-rig.js';
import { hasLoneSurrogate } from '../platforms/render/oracle.js';

// Bad chat input through the whole relay, on both platform fakes at once (one engine, one proxy, real
// `claude`): each input gets a clear answer or is ignored on purpose (the test name says which), nothing
// crashes, and a normal task right after still works.

const WAIT = { timeout: 60_000, interval: 100 };
const MARKUP_ONLY = '*_~`|>#[]()';
const PASTE = `LONG_PASTE ${'0123456789abcdef '.repeat(3100)}END_OF_PASTE`;
const ODD =
  'ODD_UNICODE lone \uD800 high, lone \uDFFF low, 🙂, e\u0301, \u202Eflipped\u202C, zero\u200Bwidth';

describe('bad chat input on Telegram and Discord at once (e2e)', () => {
  let relay: RelayOnBoth;
  let rig: RelayRig;
  let rejections: unknown[] = [];
  const drivers = (): ChatFakeDriver[] => relay.drivers();

  beforeAll(async () => {
    relay = await startRelayOnBoth({
      replies: {
        NORMAL_TASK: () => textReply('Normal answer.'),
        LONG_PASTE: (request) => textReply(`Got ${lastUserText(request.body).length} characters.`),
        // The prompt is made only of markup: the answer echoes it back.
        [MARKUP_ONLY]: () => textReply(`You sent ${MARKUP_ONLY} and nothing else. ECHO_DONE`),
        ODD_UNICODE: (request) => textReply(`Echo: ${lastUserText(request.body)} ECHO_DONE`),
        UNSEEN_REPLY: () => textReply('A fresh start.'),
      },
    });
    ({ rig, rejections } = relay);
  });
  afterAll(async () => {
    await relay?.stop();
    expect(rejections).toEqual([]);
  });

  const answerTo = async (driver: ChatFakeDriver, user: string, needle: string): Promise<string> =>
    vi.waitFor(() => {
      const text = answerText(driver, user);
      if (!text.includes(needle)) throw new Error(`${driver.name}: no "${needle}" yet in ${text}`);
      return text;
    }, WAIT);
  const normalTaskWorks = (driver: ChatFakeDriver): Promise<string> =>
    answerTo(driver, driver.send(`NORMAL_TASK ${driver.name}`), 'Normal answer.');
  const onBoth = async (scenario: (driver: ChatFakeDriver) => Promise<void>): Promise<void> => {
    await Promise.all(drivers().map(scenario));
  };

  it('ignores on purpose an empty or whitespace-only message: no answer, no task', async () => {
    await onBoth(async (driver) => {
      const empty = driver.sendEmpty();
      const blank = driver.sendEmpty(' \n\t\u00a0 ');
      // Messages are handled in order: once the next task is answered, the empty ones were seen and dropped.
      await normalTaskWorks(driver);
      for (const id of [empty, blank]) {
        expect(repliesTo(driver, id), driver.name).toEqual([]);
        expect(rig.engine.findNodeByMessage(driver.ref(id))).toBeUndefined();
      }
    });
  });

  it('answers `/stop now` and `/clear …` with how to use them and does nothing; ignores `/stats@OtherBot` on purpose', async () => {
    await onBoth(async (driver) => {
      const nodes = rig.engine.stats().totalNodes;
      const stop = driver.send('/stop now');
      const clear = driver.send('/clear the cache in src/');
      const other = driver.send('/stats@OtherBot');
      const mine = driver.send(`/stats@${driver.botName}`);
      expect(await answerTo(driver, stop, 'takes nothing after it')).toContain('/stop');
      expect(await answerTo(driver, clear, 'I did nothing')).toContain('/clear');
      await answerTo(driver, mine, 'Relay stats');
      expect(repliesTo(driver, other), driver.name).toEqual([]);
      expect(rig.engine.stats().totalNodes).toBe(nodes);
    });
  });

  it('takes a 50 KB message as a task and answers it; the whole text reaches the model', async () => {
    await onBoth(async (driver) => {
      const user = driver.send(`${PASTE} (${driver.name})`);
      await answerTo(driver, user, 'characters.');
      const body = rig.requestsFor(`END_OF_PASTE (${driver.name})`)[0];
      expect(lastUserText(body)).toContain(PASTE);
    });
  });

  it('takes a message made only of Markdown control characters as a task; the echo renders as formatted text', async () => {
    const plainBefore = rig.chatStats().reduce((sum, chat) => sum + chat.fellBackToPlain, 0);
    await onBoth(async (driver) => {
      const user = driver.send(MARKUP_ONLY);
      const shown = await answerTo(driver, user, 'ECHO_DONE');
      expect(shown).toContain('You sent');
    });
    // Escaping was right the first time: no platform refused the markup and forced plain text.
    expect(rig.chatStats().reduce((sum, chat) => sum + chat.fellBackToPlain, 0)).toBe(plainBefore);
    const final = relay.telegram.fake.botMessages().at(-1);
    expect(final?.parseModes.at(-1)).toBe('HTML');
  });

  it('takes lone surrogates and odd Unicode as a task; the echo arrives as valid text', async () => {
    await onBoth(async (driver) => {
      const user = driver.send(`${ODD} (${driver.name})`);
      const shown = await answerTo(driver, user, 'ECHO_DONE');
      expect(shown).toContain('🙂');
      expect(shown).toContain('flipped');
      for (const message of driver.messages()) expect(hasLoneSurrogate(message.text)).toBe(false);
    });
  });

  it('starts a new conversation for a reply to a message it never saw', async () => {
    await onBoth(async (driver) => {
      const user = driver.send(`UNSEEN_REPLY ${driver.name}: go on`, driver.unseenMessageId);
      await answerTo(driver, user, 'A fresh start.');
      const node = rig.engine.findNodeByMessage(driver.ref(user));
      expect(node?.parentId).toBeNull();
      expect(rig.carries(`UNSEEN_REPLY ${driver.name}`, 'NORMAL_TASK')).toBe(false);
    });
  });

  it('still runs a normal task after all of it, with no unhandled rejection', async () => {
    await onBoth(async (driver) => {
      await normalTaskWorks(driver);
    });
    expect(rejections).toEqual([]);
  });
});
