import { upstreamErrorMessage } from './openai-chunk.js';

/** The message inside an upstream error body (JSON or text), short enough to show a user. */
export function errorJsonMessage(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  try {
    return upstreamErrorMessage(JSON.parse(text))?.slice(0, 500);
  } catch {
    return text.trim().slice(0, 300);
  }
}
