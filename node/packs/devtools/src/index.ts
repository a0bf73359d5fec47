import { setTimeout as delay } from 'node:timers/promises';
import { definePack, definePrompt, defineTool, jsonResult, type PackInstance, textResult } from '@brainmesh/node';
import type { Db } from '@brainmesh/shared';
import { z } from 'zod';

/**
 * The operator's everyday tools on a DevMCP node: checks that the mesh carries what MCP
 * promises (arguments, progress, cancellation, sampling, elicitation) end to end.
 */
export const pack = definePack({
  name: 'devtools',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  create: (ctx) => devtools(ctx),
});

export default pack;

function devtools(env: { nodeName: string; startedAt: Date; db: Db }): PackInstance {
  return {
    tools: [
      defineTool({
        name: 'echo',
        description: 'Returns the text it is given. Handy to check that a node answers.',
        input: z.object({ text: z.string().max(10_000).describe('Text to send back') }),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
        handler: async ({ text }) => textResult(text),
      }),
      defineTool({
        name: 'node_info',
        description: 'Who this node is, how long it has run, and who is calling.',
        input: z.object({}),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
        handler: async (_args, ctx) =>
          jsonResult({
            node: env.nodeName,
            startedAt: env.startedAt.toISOString(),
            uptimeSeconds: Math.round((Date.now() - env.startedAt.getTime()) / 1000),
            principal: ctx.principal,
            traceId: ctx.traceId,
          }),
      }),
      defineTool({
        name: 'wait',
        description:
          'Waits the given number of seconds, reporting progress at each step. Stops at once when cancelled.',
        input: z.object({
          seconds: z.number().min(0).max(600).describe('How long to wait'),
          steps: z.number().int().min(1).max(100).default(5).describe('How many progress updates to send'),
        }),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
        handler: async ({ seconds, steps }, ctx) => {
          const stepMs = (seconds * 1000) / steps;
          for (let step = 1; step <= steps; step++) {
            // Throws AbortError when the client cancels, which ends the handler.
            await delay(stepMs, undefined, { signal: ctx.signal });
            await ctx.progress({ progress: step, total: steps, message: `step ${step} of ${steps}` });
          }
          return textResult(`waited ${seconds} s in ${steps} steps`);
        },
      }),
      defineTool({
        name: 'remember',
        description: 'Keeps a short note under a key on this node, replacing any note already there.',
        input: z.object({
          key: z
            .string()
            .min(1)
            .max(100)
            .regex(/^[\w.-]+$/, 'letters, digits, _ . and -'),
          text: z.string().min(1).max(10_000),
        }),
        annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
        handler: async ({ key, text }, ctx) => {
          await env.db.query(
            `INSERT INTO notes (key, text, updated_by) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET text = EXCLUDED.text, updated_by = EXCLUDED.updated_by, updated_at = now()`,
            [key, text, ctx.principal],
          );
          return textResult(`remembered ${key}`);
        },
      }),
      defineTool({
        name: 'recall',
        description: 'Returns the note kept under a key, with who wrote it and when.',
        input: z.object({ key: z.string().min(1).max(100) }),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
        handler: async ({ key }) => {
          const { rows } = await env.db.query<{ text: string; updated_by: string; updated_at: Date }>(
            'SELECT text, updated_by, updated_at FROM notes WHERE key = $1',
            [key],
          );
          const note = rows[0];
          if (note === undefined) return textResult(`no note under ${key}`, true);
          return jsonResult({ key, text: note.text, by: note.updated_by, at: note.updated_at.toISOString() });
        },
      }),
      defineTool({
        name: 'ask_model',
        description: "Asks the client's model a question (MCP sampling) and returns its answer.",
        input: z.object({
          question: z.string().min(1).max(4_000),
          maxTokens: z.number().int().min(1).max(4_000).default(200),
        }),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
        handler: async ({ question, maxTokens }, ctx) => {
          if (!ctx.clientCapabilities.sampling)
            return textResult('the connected client does not support sampling', true);
          const answer = await ctx.sample({
            messages: [{ role: 'user', content: { type: 'text', text: question } }],
            maxTokens,
          });
          const content = Array.isArray(answer.content) ? answer.content[0] : answer.content;
          return textResult(content?.type === 'text' ? content.text : `(${content?.type ?? 'empty'} answer)`);
        },
      }),
      defineTool({
        name: 'confirm',
        description: 'Asks the user a yes/no question (MCP elicitation) and returns what they chose.',
        input: z.object({ question: z.string().min(1).max(1_000) }),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
        handler: async ({ question }, ctx) => {
          if (!ctx.clientCapabilities.elicitation)
            return textResult('the connected client does not support elicitation', true);
          const result = await ctx.elicit({
            mode: 'form',
            message: question,
            requestedSchema: {
              type: 'object',
              properties: { ok: { type: 'boolean', title: 'Yes' } },
              required: ['ok'],
            },
          });
          return jsonResult({ action: result.action, ok: result.action === 'accept' && result.content?.ok === true });
        },
      }),
      defineTool({
        name: 'call_through_hub',
        description:
          "Calls a tool of another node through the hub, by its hub name (`<node>__<tool>`), as you: with your key's scopes and limits, under this call's trace id. This node's own tools are refused (no loops).",
        input: z.object({
          name: z.string().min(1).max(200).describe('The tool as the hub names it'),
          arguments: z.record(z.string(), z.unknown()).default({}),
        }),
        // It may call anything the caller may: a change, out of this node.
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
        handler: async ({ name, arguments: args }, ctx) => ctx.callMesh(name, args),
      }),
    ],
    resources: [
      {
        uri: 'devtools://about',
        name: 'about',
        description: 'What this node is',
        mimeType: 'text/plain',
        read: async () => ({
          contents: [{ uri: 'devtools://about', mimeType: 'text/plain', text: `brainmesh node ${env.nodeName}` }],
        }),
      },
    ],
    prompts: [
      definePrompt({
        name: 'review_change',
        description: 'A prompt to review a code change, given its summary.',
        args: z.object({ summary: z.string().min(1).describe('What the change does') }),
        get: async ({ summary }) => ({
          messages: [
            { role: 'user', content: { type: 'text', text: `Review this change for bugs and risks:\n\n${summary}` } },
          ],
        }),
      }),
    ],
  };
}
