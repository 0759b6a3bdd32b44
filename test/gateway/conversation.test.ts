import { describe, expect, it } from 'vitest';
import {
  type Conversation,
  continuationOf,
  createConversationIndex,
} from '../../src/gateway/conversation.js';

// How a re-sent history finds the session it continues: the longest remembered prefix that ends with an answer.

const first: Conversation = { system: 'be brief', turns: [{ role: 'user', text: 'write the note' }] };

describe('continuationOf', () => {
  it('a new history is a new conversation whose prompt is the last message alone', () => {
    const index = createConversationIndex<string>();
    expect(continuationOf(first, index.find)).toEqual({ parent: null, prompt: 'write the note', images: [] });
  });

  it('a history that adds a message to a remembered answer continues it with that message', () => {
    const index = createConversationIndex<string>();
    index.remember(first, 'Done.', 'node-1');
    const next: Conversation = {
      ...first,
      turns: [...first.turns, { role: 'assistant', text: '  Done.\n' }, { role: 'user', text: 'summarise' }],
    };
    // Whitespace around the answer, as clients often send it back, does not matter.
    expect(continuationOf(next, index.find)).toEqual({ parent: 'node-1', prompt: 'summarise', images: [] });
  });

  it('the same words with another picture are another history; pictures go with the prompt', () => {
    const index = createConversationIndex<string>();
    const cat = { mediaType: 'image/png', data: 'Y2F0' };
    const dog = { mediaType: 'image/png', data: 'ZG9n' };
    const withCat: Conversation = {
      system: '',
      turns: [{ role: 'user', text: 'what is this', images: [cat] }],
    };
    index.remember(withCat, 'A cat.', 'node-cat');
    const next = (picture: typeof cat): Conversation => ({
      system: '',
      turns: [
        { role: 'user', text: 'what is this', images: [picture] },
        { role: 'assistant', text: 'A cat.' },
        { role: 'user', text: 'and this?', images: [dog] },
      ],
    });
    expect(continuationOf(next(cat), index.find)).toEqual({
      parent: 'node-cat',
      prompt: 'and this?',
      images: [dog],
    });
    const other = continuationOf(next(dog), index.find);
    expect(other.parent).toBeNull();
    expect(other.images).toEqual([dog, dog]);
    expect(other.prompt).toContain('[1 image(s) attached]');
  });

  it('an edited history forks at the longest remembered prefix and reads the rest as a transcript', () => {
    const index = createConversationIndex<string>();
    index.remember(first, 'Done.', 'node-1');
    const edited: Conversation = {
      ...first,
      turns: [
        ...first.turns,
        { role: 'assistant', text: 'Done.' },
        { role: 'user', text: 'summarise' },
        { role: 'assistant', text: 'an answer the gateway never gave' },
        { role: 'user', text: 'go on' },
      ],
    };
    const found = continuationOf(edited, index.find);
    expect(found.parent).toBe('node-1');
    expect(found.prompt).toBe(
      [
        '(The conversation so far, then the new message to answer.)',
        '',
        'User:',
        'summarise',
        '',
        'Assistant:',
        'an answer the gateway never gave',
        '',
        'New message from the user:',
        'go on',
      ].join('\n'),
    );
  });

  it('another key, or another system prompt, is another conversation', () => {
    const index = createConversationIndex<string>();
    index.remember({ ...first, scope: 'key-a' }, 'Done.', 'node-a');
    const turns = [
      ...first.turns,
      { role: 'assistant' as const, text: 'Done.' },
      { role: 'user' as const, text: 'hi' },
    ];
    expect(continuationOf({ ...first, scope: 'key-b', turns }, index.find).parent).toBeNull();
    expect(
      continuationOf({ ...first, scope: 'key-a', system: 'other', turns }, index.find).parent,
    ).toBeNull();
    expect(continuationOf({ ...first, scope: 'key-a', turns }, index.find).parent).toBe('node-a');
  });
});
