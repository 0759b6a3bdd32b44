import { describe, expect, it } from 'vitest';
import { PROVIDER_LIST, PROVIDERS, type ProviderId } from '../../src/providers.js';
import { ProxyError } from '../../src/proxy/errors.js';
import { imageRefusal } from '../../src/proxy/openai-path.js';
import { IMAGE_OMITTED, IMAGES_OVER_LIMIT, toOpenAiRequest } from '../../src/proxy/request-to-openai.js';

// Message shapes strict servers demand, per provider, from the CLI's request to what the provider receives.

const PNG = { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' };

/** The Read tool on a PNG, then the user pasting a picture of their own. */
const readPicture = {
  model: 'claude-sonnet-4-5',
  messages: [
    { role: 'user', content: 'what is in pic.png?' },
    {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/p/pic.png' } }],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'image', source: PNG }] },
        { type: 'image', source: PNG },
        { type: 'text', text: 'and this one' },
      ],
    },
  ],
};

describe('images', () => {
  it('go to a model that sees as image parts after the tool result, which points to them', () => {
    const { body, images } = toOpenAiRequest(readPicture, {
      provider: PROVIDERS.openai,
      model: 'm',
      stream: true,
    });
    expect(images).toBe(2);
    expect(body.messages).toContainEqual({
      role: 'tool',
      tool_call_id: 'toolu_1',
      content: '[image attached below]',
    });
    expect(JSON.stringify(body.messages)).toContain('data:image/png;base64,iVBORw0KGgo=');
  });

  it('become a note, in the tool result and in the user message, for a model that refused them', () => {
    const { body, images } = toOpenAiRequest(readPicture, {
      provider: PROVIDERS.openai,
      model: 'm',
      stream: true,
      images: false,
    });
    expect(images).toBe(0);
    expect(JSON.stringify(body.messages)).not.toContain('image_url');
    expect(body.messages).toContainEqual({ role: 'tool', tool_call_id: 'toolu_1', content: IMAGE_OMITTED });
    expect(body.messages).toContainEqual({ role: 'user', content: `${IMAGE_OMITTED}\n\nand this one` });
  });
});

describe('an assistant message that only calls tools', () => {
  // What each server accepts (src/providers.ts cites the reports): LM Studio and Ollama (behind `openai`) refuse
  // null; Bedrock and Anthropic routes behind OpenRouter refuse an empty text.
  const expected: Record<Exclude<ProviderId, 'anthropic'>, '' | null> = {
    nvidia_nim: '',
    open_router: null,
    lmstudio: '',
    llamacpp: '',
    openai: '',
  };
  const call = { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } };
  const toolTurn = (assistant: object[]) => ({
    model: 'claude-sonnet-4-5',
    messages: [
      { role: 'user', content: 'list files' },
      { role: 'assistant', content: assistant },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt' }] },
    ],
  });

  for (const provider of PROVIDER_LIST.filter((p) => p.protocol === 'openai-chat')) {
    it(`${provider.id}: carries content ${JSON.stringify(expected[provider.id as keyof typeof expected])}`, () => {
      const { body } = toOpenAiRequest(toolTurn([call]), { provider, model: 'm', stream: true });
      const assistant = (body.messages as Array<Record<string, unknown>>).find((m) => m.role === 'assistant');
      expect(assistant).toHaveProperty('content', expected[provider.id as keyof typeof expected]);
      expect(assistant?.tool_calls).toHaveLength(1);
    });
  }

  it('keeps its text when it has some, whatever the provider', () => {
    const withText = toolTurn([{ type: 'text', text: 'Listing.' }, call]);
    const { body } = toOpenAiRequest(withText, { provider: PROVIDERS.open_router, model: 'm', stream: true });
    expect(body.messages).toContainEqual(expect.objectContaining({ role: 'assistant', content: 'Listing.' }));
  });
});

describe('what a 400 says about images', () => {
  const refusal = (message: string, status = 400) =>
    new ProxyError('upstream_http', 400, 'invalid_request_error', message, { upstreamStatus: status });
  it.each([
    'Image input is not supported for this model',
    'Qwen/Qwen2.5-Coder-32B is not a multimodal model',
    'Model does not support images. Please use a model that does.',
    'No endpoints found that support image input',
    'Invalid content type. image_url is only supported by certain models.',
    'At most 0 image(s) may be provided in one request.',
  ])('%s: none, the request goes again with notes and the model gets notes from then on', (message) => {
    expect(imageRefusal(refusal(message))).toBe('none');
  });
  it.each([
    ['At most 1 image(s) may be provided in one request.', 1],
    ['At most 3 images may be provided', 3],
    ['Multiple images are not supported', 1],
  ])('%s: the latest %i go in that request', (message, count) => {
    expect(imageRefusal(refusal(message))).toBe(count);
  });
  it.each([
    'invalid image: could not decode',
    'Unsupported MIME type: image/webp',
    '`max_tokens` for `llama-3.2-90b-vision-preview` must be less than or equal to `8192`',
    'messages: text content blocks must be non-empty',
  ])('%s: nothing to do about images, passed on', (message) => {
    expect(imageRefusal(refusal(message))).toBeNull();
  });
  it('a 5xx that mentions images is not a refusal of them', () => {
    expect(imageRefusal(refusal('image processing backend is not supported right now', 503))).toBeNull();
  });
});

describe('a per-request image limit', () => {
  it('keeps the latest images and puts a note in place of each earlier one', () => {
    const picture = (data: string) => ({ type: 'image', source: { ...PNG, data } });
    const request = {
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'first' }, picture('AAAA')] },
        { role: 'assistant', content: 'seen' },
        { role: 'user', content: [{ type: 'text', text: 'second' }, picture('BBBB'), picture('CCCC')] },
      ],
    };
    const { body, images } = toOpenAiRequest(request, {
      provider: PROVIDERS.openai,
      model: 'm',
      stream: false,
      maxImages: 1,
    });
    expect(images).toBe(1);
    const text = JSON.stringify(body.messages);
    expect(text).toContain('base64,CCCC');
    expect(text).not.toContain('base64,BBBB');
    expect(text).not.toContain('base64,AAAA');
    expect(text.split(IMAGES_OVER_LIMIT).length - 1).toBe(2);
  });
});
