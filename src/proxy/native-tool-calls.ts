import type { AnthropicEvent } from './anthropic-types.js';
import type { ToolCallDelta } from './openai-chunk.js';
import type { Ledger } from './stream-ledger.js';

// Native tool calls in the order the Anthropic stream can carry them. The stream has one block open at a time,
// while providers may interleave several calls' argument fragments (0, 1, 0, 1 …). So one call streams live; a
// call that opens while the live one's JSON is still unfinished is held, whole, and sent after it: the CLI only
// runs tools once the message ends, so holding costs no time, and no fragment is ever dropped. Calls sent one
// after another (the usual shape) still stream live, each closed when the next opens.

interface NativeCall {
  key: string;
  id: string | undefined;
  name: string;
  /** Arguments received so far: all of them while held, the live call's too (to tell when its JSON is whole). */
  args: string;
  started: boolean;
  held: boolean;
}

export interface NativeToolCalls {
  /** One upstream fragment; `beforeStart` runs just before a call opens live (to send what waited for it). */
  push(call: ToolCallDelta, out: AnthropicEvent[], beforeStart: (out: AnthropicEvent[]) => void): void;
  /** Whether text or reasoning arriving now must wait: the live call's arguments are not whole yet. */
  midCall(): boolean;
  /** Text or reasoning goes out now and closes the live call's block. */
  releaseLive(): void;
  /** The end of the stream: held calls, and any that never got a name, go out whole. */
  finish(out: AnthropicEvent[]): void;
  /** Calls whose arguments are not a JSON object (none is `{}`): the CLI cannot run them (tool-call-health.ts). */
  malformed(): number;
}

export function createNativeToolCalls(ledger: Ledger, newToolId: () => string): NativeToolCalls {
  /** The latest call under each upstream index, each call by every id it was sent with, and every call in order. */
  const byIndex = new Map<number, NativeCall>();
  const byId = new Map<string, NativeCall>();

  /**
   * The call a fragment belongs to. An id seen before names its call. Otherwise the index decides, except that a
   * fragment with no index of its own (its position stands in) and a new id opens a new call: such providers
   * number every call 0. With an index, a changed id is the same call (some providers change it mid-call).
   */
  function find(delta: ToolCallDelta): NativeCall | undefined {
    const known = delta.id === undefined ? undefined : byId.get(delta.id);
    if (known) return known;
    const atIndex = byIndex.get(delta.index);
    if (atIndex && !delta.indexed && delta.id !== undefined && atIndex.id !== undefined) return undefined;
    return atIndex;
  }
  const calls: NativeCall[] = [];
  const held: NativeCall[] = [];
  let live: NativeCall | undefined;

  function start(call: NativeCall, out: AnthropicEvent[]): void {
    call.started = true;
    out.push(...ledger.toolStart(call.key, call.id ?? newToolId(), call.name || 'unknown_tool'));
    out.push(...ledger.toolArgs(call.key, call.args));
  }

  function isObjectJson(args: string): boolean {
    if (args.trim() === '') return true;
    try {
      const value: unknown = JSON.parse(args);
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    } catch {
      return false;
    }
  }

  function liveIsWhole(): boolean {
    if (live === undefined) return true;
    try {
      JSON.parse(live.args);
      return true;
    } catch {
      return false;
    }
  }

  return {
    push(delta, out, beforeStart) {
      let call = find(delta);
      if (!call) {
        call = {
          key: `native:${calls.length}`,
          id: delta.id,
          name: '',
          args: '',
          started: false,
          held: false,
        };
        calls.push(call);
      }
      byIndex.set(delta.index, call);
      if (delta.id && !byId.has(delta.id)) byId.set(delta.id, call);
      if (delta.id && !call.id) call.id = delta.id;
      // Some servers resend the whole name on every delta, others stream it in pieces.
      if (delta.name && !call.started && !call.name.endsWith(delta.name)) call.name += delta.name;
      if (delta.args) {
        if (call === live) {
          live.args += delta.args;
          out.push(...ledger.toolArgs(call.key, delta.args));
        } else if (call.started) {
          out.push(...ledger.toolArgs(call.key, delta.args)); // its block has closed: the ledger counts it dropped
        } else {
          call.args += delta.args;
        }
      }
      if (call.started || call.held || !call.name) return;
      if (held.length === 0 && liveIsWhole()) {
        beforeStart(out);
        live = call;
        start(call, out);
      } else {
        call.held = true;
        held.push(call);
      }
    },
    midCall: () => !liveIsWhole(),
    releaseLive() {
      live = undefined;
    },
    finish(out) {
      live = undefined;
      for (const call of held) start(call, out);
      for (const call of calls) if (!call.started) start(call, out);
    },
    malformed: () => calls.filter((call) => !isObjectJson(call.args)).length,
  };
}
