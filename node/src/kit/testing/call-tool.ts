import { Writable } from 'node:stream';
import { createLogger } from '@brainmesh/shared';
import type { CallToolResult, ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolDefinition } from '../../pack.js';
import type { CallContext } from '../../source.js';

/**
 * Calls a pack's tool the way the node's MCP server does (arguments checked by the tool's schema,
 * a CallContext), without a process or a session: for tests of what a tool does with a service.
 */

export interface CallOptions {
  /** The client can ask its user, and answers this (otherwise it cannot ask). */
  elicit?: (params: { message: string }) => ElicitResult;
  signal?: AbortSignal;
  /** Receives the tool's progress (otherwise dropped, as for a client that asked for none). */
  onProgress?: (update: { progress: number; total?: number; message?: string }) => void;
}

export interface Called {
  result: CallToolResult;
  /** What the tool told the audit trail its source was (undefined: live). */
  source: string | undefined;
  /** The messages the user was asked to confirm. */
  asked: string[];
  /** structuredContent, or the text content parsed as JSON. */
  json: Record<string, unknown>;
  text: string;
}

export const quietLogger = createLogger({
  name: 'test',
  level: 'warn',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

export async function callTool(
  tools: readonly ToolDefinition[],
  name: string,
  args: Record<string, unknown>,
  options: CallOptions = {},
): Promise<Called> {
  const tool = tools.find((t) => t.name === name);
  if (tool === undefined) throw new Error(`no tool ${name} (have ${tools.map((t) => t.name).join(', ')})`);
  let source: string | undefined;
  const asked: string[] = [];
  const ctx: CallContext = {
    principal: 'test',
    traceId: 'trace-test',
    logger: quietLogger,
    signal: options.signal ?? new AbortController().signal,
    progress: async (update) => options.onProgress?.(update),
    sample: async () => {
      throw new Error('no sampling in this test');
    },
    callMesh: async () => {
      throw new Error('no mesh in this test');
    },
    elicit: async (params) => {
      asked.push(params.message);
      if (options.elicit === undefined) throw new Error('the client cannot elicit');
      return options.elicit(params);
    },
    clientCapabilities: { sampling: false, elicitation: options.elicit !== undefined },
    markSource: (s) => {
      source = s;
    },
  };
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) throw new Error(`invalid arguments for ${name}: ${parsed.error.message}`);
  const result = await tool.handler(parsed.data, ctx);
  const first = result.content[0];
  const text = first?.type === 'text' ? first.text : '';
  let json: Record<string, unknown> = (result.structuredContent as Record<string, unknown> | undefined) ?? {};
  if (result.structuredContent === undefined) {
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = {};
    }
  }
  return { result, source, asked, json, text };
}
