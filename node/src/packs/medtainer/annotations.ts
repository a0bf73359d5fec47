import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

/** What every MedTainer tool tells a client about itself: each one reaches an outside service. */

export const READ_ONLY = {
  readOnlyHint: true,
  idempotentHint: true,
  openWorldHint: true,
} as const satisfies ToolAnnotations;

/** A change to the outside world: always `destructiveHint`, so a client asks before it runs. */
export const changes = (idempotent: boolean) =>
  ({
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: idempotent,
    openWorldHint: true,
  }) as const satisfies ToolAnnotations;
