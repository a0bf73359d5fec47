import type { AuditPolicy, Db, Logger, PackExtension, Store } from '@brainmesh/shared';
import type {
  CallToolResult,
  GetPromptResult,
  ReadResourceResult,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { PackMetrics } from './kit/metrics.js';
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
  /**
   * Seen and called only by principals with the hub's admin scope (the hub hides and refuses it
   * for anyone else, whatever node or tool scopes they hold).
   */
  adminOnly?: boolean;
  handler(args: z.output<S>, ctx: CallContext): Promise<CallToolResult>;
}

export interface ResourceDefinition {
  uri: string;
  name: string;
  description?: string;
  mimeType?: string;
  read(ctx: CallContext): Promise<ReadResourceResult>;
}

/** Resources under a URI template (`spectrum://knowledge/{id}`): listed once, read by URI. */
export interface ResourceTemplateDefinition {
  uriTemplate: string;
  name: string;
  description?: string;
  mimeType?: string;
  /** Reads one resource the template names; throws NOT_FOUND for a URI it fits but does not know. */
  read(uri: string, ctx: CallContext): Promise<ReadResourceResult>;
}

export interface PromptDefinition<S extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  /** Prompt arguments are strings on the wire; the schema says which exist and checks them. */
  args: S;
  get(args: z.output<S>, ctx: CallContext): Promise<GetPromptResult>;
}

/** What a pack serves once made: its tools, resources and prompts, and any background work. */
export interface PackInstance {
  tools: ToolDefinition[];
  resources?: ResourceDefinition[];
  resourceTemplates?: ResourceTemplateDefinition[];
  prompts?: PromptDefinition[];
  /** Background work the pack runs while the node is up (a sync job); started once listening. */
  start?(): Promise<void>;
  /** Stops that work; the node waits for it before closing the database. */
  stop?(): Promise<void>;
}

/** A made pack, named: what the node serves. */
export interface ToolPack extends PackInstance {
  name: string;
}

/** Everything a pack is given, and nothing more: it reaches the node through these alone. */
export interface PackContext<Settings = unknown> {
  nodeName: string;
  startedAt: Date;
  /** The node's logger, with `pack: <name>` on every line. */
  logger: Logger;
  /** The pack's block of the node config, parsed by its `settings` schema (env overrides applied). */
  settings: Settings;
  /**
   * The pack's own database handle: its schema only (`pack_<name>`), every statement run as the
   * pack's own role. The node's audit trail and other packs' tables are out of its reach.
   */
  db: Db;
  /** The node's key-value store (Redis or in-process), e.g. for an outbound limiter shared across nodes. */
  store: Store;
  /**
   * Says one of the pack's resources changed: every client session subscribed to it through the
   * hub is sent `notifications/resources/updated`, and `message`, when given, as a log line.
   * The node keeps no subscriptions; the hub does.
   */
  resourceUpdated(uri: string, message?: string): void;
  /** The pack's own metrics on the node's `/metrics` (under `brainmesh_pack_<name>_`). */
  metrics: PackMetrics;
}

const PACK = Symbol.for('brainmesh.pack');

export interface PackSpec<S extends z.ZodType = z.ZodType> {
  /** Lowercase letters, digits and dashes, at most 32: names the pack's schema and its log lines. */
  name: string;
  version: string;
  /** Validates the pack's `settings:` block of the node config; without it, the block must be absent or empty. */
  settings?: S;
  /** Environment variables that set a settings field: `{ CRM_TOKEN: 'crm.token' }` (dotted path in settings). */
  env?: Readonly<Record<string, string>>;
  /** Folder of the pack's `NNNN_what.sql` migrations (a path, or `new URL('./migrations/', import.meta.url)`). */
  migrations?: string | URL;
  /**
   * Postgres extensions its migrations and queries use (`pg_trgm`): the node installs them, which
   * the pack's own role may not, and puts them on the pack's search_path.
   */
  extensions?: readonly PackExtension[];
  create(ctx: PackContext<z.output<S>>): PackInstance | Promise<PackInstance>;
}

/** A pack as `definePack` made it: the only kind of value a node config's `use:` can load. */
export interface PackDefinition<S extends z.ZodType = z.ZodType> extends Readonly<PackSpec<S>> {
  readonly [PACK]: true;
}

export const PACK_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Declares a tool pack. The node finds it by the name in its config, validates the pack's settings
 * with `settings`, runs `migrations` in the pack's own schema, then calls `create` once.
 */
export function definePack<S extends z.ZodType = z.ZodObject>(spec: PackSpec<S>): PackDefinition<S> {
  if (!PACK_NAME.test(spec.name))
    throw new TypeError(`definePack: name "${spec.name}" must be lowercase letters, digits and dashes, at most 32`);
  return Object.freeze({ ...spec, [PACK]: true as const });
}

/** True for a value made by `definePack`, by any copy of this module (the mark is a global symbol). */
export function isPack(value: unknown): value is PackDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PACK] === true;
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
