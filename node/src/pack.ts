import type { AuditPolicy } from '@brainmesh/shared';
import type {
  CallToolResult,
  GetPromptResult,
  ReadResourceResult,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { CallContext } from './source.js';

/**
 * A tool pack is a node's own code: tools with a zod input schema, MCP annotations and a
 * handler; resources and prompts declared the same way. Packs are plain values, so a test can
 * build a node from any set of them.
 */

export interface ToolDefinition<S extends z.ZodObject = z.ZodObject> {
  name: string;
  title?: string;
  description: string;
  input: S;
  annotations?: ToolAnnotations;
  /** Fields of its arguments and result to keep out of the audit trail, beyond secret-shaped ones. */
  audit?: AuditPolicy;
  handler(args: z.output<S>, ctx: CallContext): Promise<CallToolResult>;
}

export interface ResourceDefinition {
  uri: string;
  name: string;
  description?: string;
  mimeType?: string;
  read(ctx: CallContext): Promise<ReadResourceResult>;
}

export interface PromptDefinition<S extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  /** Prompt arguments are strings on the wire; the schema says which exist and checks them. */
  args: S;
  get(args: z.output<S>, ctx: CallContext): Promise<GetPromptResult>;
}

export interface ToolPack {
  name: string;
  tools: ToolDefinition[];
  resources?: ResourceDefinition[];
  prompts?: PromptDefinition[];
  /** Background work the pack runs while the node is up (a sync job); started once listening. */
  start?(): Promise<void>;
  /** Stops that work; the node waits for it before closing the database. */
  close?(): Promise<void>;
}

/** Keeps the handler's argument type tied to the schema. */
export function defineTool<S extends z.ZodObject>(tool: ToolDefinition<S>): ToolDefinition {
  return tool as unknown as ToolDefinition;
}

export function definePrompt<S extends z.ZodObject>(prompt: PromptDefinition<S>): PromptDefinition {
  return prompt as unknown as PromptDefinition;
}

export function textResult(text: string, isError = false): CallToolResult {
  return isError ? { content: [{ type: 'text', text }], isError: true } : { content: [{ type: 'text', text }] };
}

/** A result both a model (text) and a program (structuredContent) can read. */
export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}
