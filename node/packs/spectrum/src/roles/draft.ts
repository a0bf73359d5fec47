import type { CallContext } from '@brainmesh/node';
import { jsonResult } from '@brainmesh/node';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * Drafting through the client: Spectrum calls no model API. A drafting tool gathers what the
 * draft needs (knowledge, tasks, facts) and, where the client offers MCP sampling, asks the
 * client's own model to write it; otherwise it returns what it gathered, shaped for the calling
 * model to draft from, and says so.
 */
export async function draftThroughClient(
  ctx: CallContext,
  request: { kind: string; instructions: string; gathered: Record<string, unknown>; maxTokens?: number },
): Promise<CallToolResult> {
  const material = JSON.stringify(request.gathered, null, 2);
  if (ctx.clientCapabilities.sampling) {
    const answer = await ctx.sample({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: `${request.instructions}\n\nWork only from this material, and cite documents as spectrum://knowledge/<id>@<version>:\n\n${material}`,
          },
        },
      ],
      systemPrompt: `You are drafting a ${request.kind} for a small agency. Be concrete and brief.`,
      maxTokens: request.maxTokens ?? 1_200,
    });
    const text = answer.content.type === 'text' ? answer.content.text : '';
    return jsonResult({
      mode: 'sampled',
      kind: request.kind,
      model: answer.model,
      draft: text,
      sources: request.gathered,
    });
  }
  return jsonResult({
    mode: 'context',
    kind: request.kind,
    note: `No model was asked (this client offers no sampling): draft the ${request.kind} yourself from the material below. ${request.instructions}`,
    material: request.gathered,
  });
}
