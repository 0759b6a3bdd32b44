import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  lastRole,
  lastUserText,
  textReply,
  toolCallReply,
  toolResults,
  type UpstreamRequest,
} from '../fakes/openai-upstream.js';
import {
  bothPlatforms,
  type ChatFakeDriver,
  DISCORD_CHANNEL,
  DISCORD_USER,
  repliesTo,
  startDiscordDriver,
  startTelegramDriver,
  TELEGRAM_USER,
} from './chat-drivers.js';
import { type RelayRig, startRelayRig } from './relay-rig.js';

// Photos and files sent with a task, end to end on Telegram and Discord at once (one relay, one engine, the
// real `claude` through the embedded proxy to a scripted upstream): the file lands in the workspace with the
// same bytes, the prompt names it, the model can Read it, and bad input (over-size, failed download, hostile
// names) gets a clear answer or a safe name.

const WAIT = { timeout: 90_000, interval: 100 };
const OVER_LIMIT = 25 * 1024 * 1024;
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What each platform's user can send: the shapes differ (Telegram: one photo or document per message). */
interface Sender {
  photo(caption: string, data: Uint8Array): string;
  /** A text file with a hostile name (two on Discord, in one message), as a reply. */
  hostileDocument(caption: string, data: Uint8Array, replyTo: string): string;
  overSize(caption: string): string;
  breakNextDownload(): void;
  /** What the saved photo is called and declared as. */
  photoName: string;
  photoMime: string;
  /** The safe names the hostile document must end up under. */
  hostileSaved: string[];
}

describe('attachments on Telegram and Discord at once (e2e)', () => {
  let telegram: Awaited<ReturnType<typeof startTelegramDriver>>;
  let discord: Awaited<ReturnType<typeof startDiscordDriver>>;
  let rig: RelayRig;

  /** Reads the first attached file with the Read tool, then answers with what the tool returned. */
  const readFirstAttachment = (request: UpstreamRequest) => {
    if (lastRole(request.body) === 'tool') {
      return textReply(`The file says: ${toolResults(request.body).at(-1) ?? '(nothing)'}`);
    }
    // A new task names the file from the workspace; a reply, which may run in a fork's own worktree, absolute.
    const path = /Attached: ((?:\/\S+\/)?attachments\/\S+)/.exec(lastUserText(request.body))?.[1];
    if (!path) return textReply('No attachment was named.');
    const absolute = path.startsWith('/') ? path : join(rig.workspace, path);
    return toolCallReply([{ name: 'Read', arguments: { file_path: absolute } }]);
  };

  const senders: Record<'telegram' | 'discord', () => Sender> = {
    telegram: () => ({
      photo: (caption, data) =>
        String(
          telegram.fake.sendUserMessage({
            userId: TELEGRAM_USER,
            caption,
            photo: [
              { data: new Uint8Array([1, 2]), width: 90, height: 60 },
              { data, width: 1280, height: 720 },
            ],
          }).messageId,
        ),
      hostileDocument: (caption, data, replyTo) =>
        String(
          telegram.fake.sendUserMessage({
            userId: TELEGRAM_USER,
            caption,
            replyTo: Number(replyTo),
            document: { data, mimeType: 'text/plain', fileName: '../../etc/passwd' },
          }).messageId,
        ),
      overSize: (caption) =>
        String(
          telegram.fake.sendUserMessage({
            userId: TELEGRAM_USER,
            caption,
            document: {
              data: new Uint8Array(8),
              mimeType: 'application/zip',
              fileName: 'dump.zip',
              declaredSize: OVER_LIMIT,
            },
          }).messageId,
        ),
      breakNextDownload: () =>
        telegram.fake.failNext('getFile', { errorCode: 500, description: 'Internal Server Error' }),
      photoName: 'photo.jpg',
      photoMime: 'image/jpeg',
      hostileSaved: ['passwd'],
    }),
    discord: () => ({
      photo: (caption, data) =>
        discord.fake.postUserMessage({
          channelId: DISCORD_CHANNEL,
          userId: DISCORD_USER,
          content: caption,
          attachment: { data, contentType: 'image/png', fileName: 'shot.png' },
        }).messageId,
      hostileDocument: (caption, data, replyTo) =>
        discord.fake.postUserMessage({
          channelId: DISCORD_CHANNEL,
          userId: DISCORD_USER,
          content: caption,
          replyTo,
          attachments: [
            { data, contentType: 'text/plain; charset=utf-8', fileName: '../../etc/passwd' },
            { data: encode('alias ls=rm\n'), contentType: null, fileName: '.bashrc' },
          ],
        }).messageId,
      overSize: (caption) =>
        discord.fake.postUserMessage({
          channelId: DISCORD_CHANNEL,
          userId: DISCORD_USER,
          content: caption,
          attachment: {
            data: new Uint8Array(8),
            contentType: 'application/zip',
            fileName: 'dump.zip',
            declaredSize: OVER_LIMIT,
          },
        }).messageId,
      breakNextDownload: () =>
        discord.fake.failNext(/^GET \/attachments\//, {
          status: 500,
          body: { message: 'Internal Server Error', code: 0 },
        }),
      photoName: 'shot.png',
      photoMime: 'image/png',
      hostileSaved: ['bashrc', 'passwd'],
    }),
  };

  const answerTo = (driver: ChatFakeDriver, messageId: string, needle: string) =>
    vi.waitFor(() => {
      const found = repliesTo(driver, messageId).find((m) => m.text.includes(needle));
      if (!found)
        throw new Error(`no answer with "${needle}": ${JSON.stringify(repliesTo(driver, messageId))}`);
      return found;
    }, WAIT);
  const folderOf = (messageId: string): string => join(rig.workspace, 'attachments', messageId);

  beforeAll(async () => {
    telegram = await startTelegramDriver();
    discord = await startDiscordDriver();
    rig = await startRelayRig({
      replies: {
        PHOTO_TASK: () => textReply('Photo noted.'),
        ALBUM_TASK: () => textReply('Album noted.'),
        ALBUM_FOLLOW: () => textReply('Follow-up noted.'),
        DOC_TASK: readFirstAttachment,
      },
      messaging: bothPlatforms(telegram, discord),
      transcript: () => '',
      attachments: true,
    });
  });
  afterAll(async () => {
    await rig?.stop();
    await telegram?.close();
    await discord?.close();
  });

  const photoStatus = new Map<string, string>();

  for (const name of ['telegram', 'discord'] as const) {
    const driver = (): ChatFakeDriver => (name === 'telegram' ? telegram : discord);

    it(`${name}: a photo with a caption is saved with its bytes and named in the prompt`, async () => {
      const send = senders[name]();
      const bytes = encode(`pretend image bytes for ${name} \u0000\u00ff`);
      const user = send.photo(`PHOTO_TASK ${name} what is wrong in this screenshot?`, bytes);
      const status = await answerTo(driver(), user, 'Photo noted.');
      photoStatus.set(name, status.id);

      const [prompt] = rig.requestsFor(`PHOTO_TASK ${name}`).map(lastUserText);
      const path = `attachments/${user}/${send.photoName}`;
      expect(prompt).toContain(`PHOTO_TASK ${name} what is wrong in this screenshot?`);
      expect(prompt).toContain(`Attached: ${path} (${send.photoMime}, ${bytes.byteLength} bytes)`);
      expect(readFileSync(join(rig.workspace, path))).toEqual(Buffer.from(bytes));
    });

    it(`${name}: a text file the model Reads, sent as a reply (fork), under hostile names saved safely`, async () => {
      const send = senders[name]();
      const canary = `CANARY-${name}-7f3a the build fails at step 3`;
      const replyTo = photoStatus.get(name);
      if (!replyTo) throw new Error('the photo test did not run');
      const user = send.hostileDocument(`DOC_TASK ${name} read the log`, encode(`${canary}\n`), replyTo);

      // The whole answer, not a live preview that shows only its start ("The file says …").
      const answer = await answerTo(driver(), user, 'out tokens');
      expect(answer.text).toContain('The file says');
      expect(answer.text).toContain(canary);
      expect(rig.carries(`DOC_TASK ${name}`, `PHOTO_TASK ${name}`)).toBe(true);
      expect(lastUserText(rig.requestsFor(`DOC_TASK ${name}`)[0])).toContain(`Attached: ${folderOf(user)}/`);
      expect(readdirSync(folderOf(user)).sort()).toEqual(send.hostileSaved);
      expect(readFileSync(join(folderOf(user), 'passwd'), 'utf8')).toBe(`${canary}\n`);
      expect(existsSync(join(rig.workspace, 'etc'))).toBe(false);
      expect(existsSync(join(rig.workspace, '.bashrc'))).toBe(false);
    });

    it(`${name}: an over-size file is refused clearly and runs nothing`, async () => {
      const user = senders[name]().overSize(`BIG_TASK ${name} unpack this`);
      const answer = await answerTo(driver(), user, 'the limit is 20.0 MB per file');
      expect(answer.text).toContain('dump.zip is 25.0 MB');
      expect(answer.text).toContain('Nothing was run');
      expect(rig.requestsFor(`BIG_TASK ${name}`)).toEqual([]);
      expect(existsSync(folderOf(user))).toBe(false);
    });

    it(`${name}: a failed download is answered clearly and runs nothing`, async () => {
      const send = senders[name]();
      send.breakNextDownload();
      const user = send.photo(`BROKEN_TASK ${name} look at this`, encode('never arrives'));
      await answerTo(driver(), user, `Could not download ${send.photoName}`);
      expect(rig.requestsFor(`BROKEN_TASK ${name}`)).toEqual([]);
      expect(existsSync(folderOf(user))).toBe(false);
    });
  }

  it('telegram: an album (one message per photo, the caption on one) is one task with every photo', async () => {
    const album = ['first', 'second', 'third'].map((label, index) =>
      String(
        telegram.fake.sendUserMessage({
          userId: TELEGRAM_USER,
          mediaGroupId: 'album-1',
          ...(index === 1 ? { caption: 'ALBUM_TASK compare these screenshots' } : {}),
          photo: [{ data: encode(`${label} picture`), width: 800, height: 600 }],
        }).messageId,
      ),
    );
    const [first, , third] = album;
    if (first === undefined || third === undefined) throw new Error('three messages were sent');
    const status = await answerTo(telegram, first, 'Album noted.');
    const requests = rig.requestsFor('ALBUM_TASK');
    expect(requests).toHaveLength(1);
    const prompt = lastUserText(requests[0]);
    for (const [index, name] of ['photo.jpg', 'photo-2.jpg', 'photo-3.jpg'].entries()) {
      expect(prompt).toContain(`Attached: attachments/${first}/${name} (image/jpeg`);
      const label = ['first', 'second', 'third'][index];
      expect(readFileSync(join(folderOf(first), name), 'utf8')).toBe(`${label} picture`);
    }
    // One status message, answering the album's first message; the other parts got no answer of their own.
    expect(repliesTo(telegram, first).map((m) => m.id)).toEqual([status.id]);
    expect(album.slice(1).flatMap((id) => repliesTo(telegram, id))).toEqual([]);

    // A reply to any photo of the album continues that conversation.
    const follow = String(
      telegram.fake.sendUserMessage({
        userId: TELEGRAM_USER,
        text: 'ALBUM_FOLLOW and the third one?',
        replyTo: Number(third),
      }).messageId,
    );
    await answerTo(telegram, follow, 'Follow-up noted.');
    expect(rig.carries('ALBUM_FOLLOW', 'ALBUM_TASK compare these screenshots')).toBe(true);
  });
});
