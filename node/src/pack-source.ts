import {
  ADMIN_ONLY_META_KEY,
  type AuditPolicy,
  BrainmeshError,
  describeIssues,
  fitsTemplate,
  inputJsonSchema,
  invalidArguments,
} from '@brainmesh/shared';
import type {
  CallToolResult,
  CompleteResult,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type {
  PromptDefinition,
  ResourceDefinition,
  ResourceTemplateDefinition,
  ToolDefinition,
  ToolPack,
} from './pack.js';
import type { CallContext, Source } from './source.js';

/** Serves the tools, resources and prompts of the node's own packs. */
export class PackSource implements Source {
  readonly name = 'packs';
  private readonly tools = new Map<string, { def: ToolDefinition; wire: Tool }>();
  private readonly resources = new Map<string, ResourceDefinition>();
  private readonly templates = new Map<string, ResourceTemplateDefinition>();
  private readonly prompts = new Map<string, PromptDefinition>();

  constructor(packs: readonly ToolPack[]) {
    for (const pack of packs) {
      for (const def of pack.tools) {
        if (this.tools.has(def.name)) throw duplicate('tool', def.name, pack.name);
        this.tools.set(def.name, { def, wire: toWireTool(def) });
      }
      for (const def of pack.resources ?? []) {
        if (this.resources.has(def.uri)) throw duplicate('resource', def.uri, pack.name);
        this.resources.set(def.uri, def);
      }
      for (const def of pack.resourceTemplates ?? []) {
        if (this.templates.has(def.uriTemplate)) throw duplicate('resource template', def.uriTemplate, pack.name);
        this.templates.set(def.uriTemplate, def);
      }
      for (const def of pack.prompts ?? []) {
        if (this.prompts.has(def.name)) throw duplicate('prompt', def.name, pack.name);
        this.prompts.set(def.name, def);
      }
    }
  }

  onListChanged(): void {
    // Packs are fixed for the life of the process.
  }

  async listTools(): Promise<Tool[]> {
    return [...this.tools.values()].map((t) => t.wire);
  }

  auditPolicy(name: string): AuditPolicy | undefined {
    return this.tools.get(name)?.def.audit;
  }

  async callTool(name: string, args: Record<string, unknown>, ctx: CallContext): Promise<CallToolResult> {
    const tool = this.tools.get(name);
    if (tool === undefined) throw new BrainmeshError('NOT_FOUND', `unknown tool ${name}`);
    const parsed = tool.def.input.safeParse(args);
    // A tool error, not a protocol error, so the model can read it and correct its call.
    if (!parsed.success) return invalidArguments(parsed.error);
    return tool.def.handler(parsed.data, ctx);
  }

  async listResources(): Promise<Resource[]> {
    return [...this.resources.values()].map((r) => ({
      uri: r.uri,
      name: r.name,
      ...(r.description === undefined ? {} : { description: r.description }),
      ...(r.mimeType === undefined ? {} : { mimeType: r.mimeType }),
    }));
  }

  async listResourceTemplates(): Promise<ResourceTemplate[]> {
    return [...this.templates.values()].map((t) => ({
      uriTemplate: t.uriTemplate,
      name: t.name,
      ...(t.description === undefined ? {} : { description: t.description }),
      ...(t.mimeType === undefined ? {} : { mimeType: t.mimeType }),
    }));
  }

  async readResource(uri: string, ctx: CallContext): Promise<ReadResourceResult> {
    const resource = this.resources.get(uri);
    if (resource !== undefined) return resource.read(ctx);
    const template = [...this.templates.values()].find((t) => fitsTemplate(t.uriTemplate, uri));
    if (template === undefined) throw new BrainmeshError('NOT_FOUND', `unknown resource ${uri}`);
    return template.read(uri, ctx);
  }

  async listPrompts(): Promise<Prompt[]> {
    return [...this.prompts.values()].map((p) => ({
      name: p.name,
      description: p.description,
      arguments: Object.entries(p.args.shape).map(([name, schema]) => ({
        name,
        ...((schema as z.ZodType).description === undefined ? {} : { description: (schema as z.ZodType).description }),
        required: !(schema as z.ZodType).safeParse(undefined).success,
      })),
    }));
  }

  async getPrompt(name: string, args: Record<string, string>, ctx: CallContext): Promise<GetPromptResult> {
    const prompt = this.prompts.get(name);
    if (prompt === undefined) throw new BrainmeshError('NOT_FOUND', `unknown prompt ${name}`);
    const parsed = prompt.args.safeParse(args);
    if (!parsed.success)
      throw new BrainmeshError('INVALID_INPUT', `invalid arguments: ${describeIssues(parsed.error)}`);
    return prompt.get(parsed.data, ctx);
  }

  async complete(): Promise<CompleteResult> {
    return { completion: { values: [], hasMore: false } };
  }

  has(kind: 'tool' | 'resource' | 'prompt', key: string): boolean {
    if (kind === 'resource')
      return this.resources.has(key) || [...this.templates.keys()].some((t) => fitsTemplate(t, key));
    return (kind === 'tool' ? this.tools : this.prompts).has(key);
  }

  async close(): Promise<void> {}
}

function toWireTool(def: ToolDefinition): Tool {
  const inputSchema = inputJsonSchema(def.input);
  return {
    name: def.name,
    ...(def.title === undefined ? {} : { title: def.title }),
    description: def.description,
    inputSchema,
    ...(def.annotations === undefined ? {} : { annotations: def.annotations }),
    ...(def.adminOnly === true ? { _meta: { [ADMIN_ONLY_META_KEY]: true } } : {}),
  };
}

function duplicate(kind: string, name: string, pack: string): BrainmeshError {
  return new BrainmeshError('CONFLICT', `${kind} "${name}" of pack ${pack} is declared twice`);
}
