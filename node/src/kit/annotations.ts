import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

/**
 * What a tool that reaches an outside service tells a client about itself (`openWorldHint`), so
 * clients and the hub's limits treat reads and changes apart.
 */

export const READ_ONLY = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
} as const satisfies ToolAnnotations;

/** A read of what is on this machine or in the pack's own tables: nothing outside is asked. */
export const LOCAL_READS = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const satisfies ToolAnnotations;

/** A change to the outside world: always `destructiveHint`, so a client asks before it runs. */
export const changes = (idempotent: boolean) =>
  ({
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: idempotent,
    openWorldHint: true,
  }) as const satisfies ToolAnnotations;
