import { z } from 'zod';
import type { CallContext } from '../source.js';

/**
 * The gate in front of every tool that changes the outside world. A client that can ask its user
 * (MCP elicitation) is made to ask, whatever the arguments say, so a model cannot confirm for the
 * user; a client that cannot ask needs `confirm: true`, which its user is expected to have given.
 */

export const confirmField = z
  .boolean()
  .optional()
  .describe(
    'Set to true once the user has agreed to this change. Only read when the client cannot ask the user itself (MCP elicitation).',
  );

export type Confirmation = { ok: true } | { ok: false; reason: string };

export async function confirmChange(
  ctx: CallContext,
  confirm: boolean | undefined,
  what: string,
): Promise<Confirmation> {
  if (ctx.clientCapabilities.elicitation) {
    const answer = await ctx.elicit({
      mode: 'form',
      message: `Confirm: ${what}?`,
      requestedSchema: {
        type: 'object',
        properties: { confirm: { type: 'boolean', title: 'Yes, do it', default: false } },
        required: ['confirm'],
      },
    });
    if (answer.action === 'accept' && answer.content?.confirm === true) return { ok: true };
    return { ok: false, reason: `Not done: the user did not confirm (${answer.action}). Nothing was changed.` };
  }
  if (confirm === true) return { ok: true };
  return {
    ok: false,
    reason: `Not done: this would ${what}. Ask the user, then call again with confirm: true. Nothing was changed.`,
  };
}
