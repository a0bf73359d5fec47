import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

/** A result of one of the hub's own tools: JSON for the model to read, and the same structured. */
export const jsonToolResult = (value: unknown): CallToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(value, null, 2) }],
  structuredContent: value as Record<string, unknown>,
});

/** The hub's own tools that read and change nothing. */
export const HUB_READS = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const satisfies ToolAnnotations;
