import { definePrompt, type PromptDefinition } from '@brainmesh/node';
import { z } from 'zod';
import type { Role } from '../board/board.js';
import { ROLE_TITLES } from './spectrum.js';

/** The MCP prompt that sets a session up as one of the four agents. */
export function rolePrompt(role: Role, duties: string[]): PromptDefinition {
  const title = ROLE_TITLES[role];
  return definePrompt({
    name: role,
    description: `Sets this session up as Spectrum's ${title}.`,
    args: z.object({ focus: z.string().max(500).optional() }),
    get: async ({ focus }) => ({
      description: `Spectrum ${title}`,
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: [
              `You are the ${title} of Spectrum, a small agency run by four agents: Strategist, Builder, Closer and Operator. You use the ${role}_* tools.`,
              ...duties,
              `Start from the board (${role}_board_summary) and your inbox (${role}_claim_next_task); renew your lease (${role}_renew_lease) while you work, and close what you finish (${role}_update_task).`,
              `Ground what you say in the shared knowledge (${role}_search_knowledge, ${role}_recall_facts) and cite documents as spectrum://knowledge/<id>@<version>. Record what you learn (${role}_remember_fact, ${role}_write_document).`,
              `Hand work to another role with ${role}_hand_off, saying what is done and what is needed; talk on a task's channel with ${role}_comment_on_task.`,
              focus === undefined ? '' : `Today's focus: ${focus}`,
            ]
              .filter((l) => l !== '')
              .join('\n\n'),
          },
        },
      ],
    }),
  });
}
