import type { AuditPolicy, AuditSource, Logger } from '@brainmesh/shared';
import type {
  CallToolResult,
  CompleteRequest,
  CompleteResult,
  CreateMessageRequest,
  CreateMessageResult,
  ElicitRequest,
  ElicitResult,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * Where a node's tools, resources and prompts come from: its own tool packs, or a mounted MCP
 * server. The node's MCP server merges every source behind one list per kind.
 */

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** The client principal the hub made the call for (the link token's `sub`). */
  principal: string;
  traceId: string;
  logger: Logger;
  /** Aborted when the client cancels or the connection drops; long work must stop. */
  signal: AbortSignal;
  /** Reports progress to the client; a no-op when the client asked for none. */
  progress(update: { progress: number; total?: number; message?: string }): Promise<void>;
  /** Asks the client's model (MCP sampling); fails when the client cannot. */
  sample(params: CreateMessageRequest['params']): Promise<CreateMessageResult>;
  /** Asks the user (MCP elicitation); fails when the client cannot. */
  elicit(params: ElicitRequest['params']): Promise<ElicitResult>;
  /**
   * Calls a tool of another node through the hub, by its hub name (`medtainer__…`), as this
   * call's principal: the hub checks that principal's scopes and limits, as for any call of its
   * own, and the inner call carries this call's trace id. A node's own tools are refused (no
   * loops). Only over the hub's link; a tool error comes back as a result with `isError`.
   */
  callMesh(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** What the connected client can do (sampling, elicitation…), as it declared. */
  clientCapabilities: { sampling: boolean; elicitation: boolean };
  /**
   * Says where the answer came from, for the audit trail: `cached` (a sync cache) or `sample`
   * (example data); a call that says nothing is `live`.
   */
  markSource(source: AuditSource): void;
}

export interface Source {
  readonly name: string;
  /** Fired when this source's lists may have changed (a mount restarted or said so). */
  onListChanged(listener: () => void): void;
  listTools(): Promise<Tool[]>;
  callTool(name: string, args: Record<string, unknown>, ctx: CallContext): Promise<CallToolResult>;
  /** What of a tool's calls to keep out of the audit trail. */
  auditPolicy(name: string): AuditPolicy | undefined;
  listResources(): Promise<Resource[]>;
  listResourceTemplates(): Promise<ResourceTemplate[]>;
  readResource(uri: string, ctx: CallContext): Promise<ReadResourceResult>;
  listPrompts(): Promise<Prompt[]>;
  getPrompt(name: string, args: Record<string, string>, ctx: CallContext): Promise<GetPromptResult>;
  complete(params: CompleteRequest['params'], ctx: CallContext): Promise<CompleteResult>;
  close(): Promise<void>;
}
