import { z } from 'zod';

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

export const workspaceSettingsSchema = z
  .object({
    /**
     * The folders the pack may touch, by a short name tools refer to (relative paths from the
     * working directory). Nothing outside them is read, listed, searched or run in.
     */
    folders: z
      .array(
        z
          .object({
            name: z.string().regex(NAME, 'lowercase letters, digits and dashes, at most 32'),
            path: z.string().min(1),
          })
          .strict(),
      )
      .min(1, 'name at least one folder'),
    /**
     * Commands a client may run, by name: the program and its arguments as given (no shell), run
     * in a folder of the caller's choice with its output streamed as progress.
     */
    commands: z
      .record(
        z.string().regex(NAME, 'lowercase letters, digits and dashes, at most 32'),
        z
          .object({
            run: z.array(z.string().min(1)).min(1),
            description: z.string().max(200).optional(),
            timeoutSeconds: z.number().int().min(1).max(86_400).default(600),
          })
          .strict(),
      )
      .default({
        test: { run: ['npm', 'test'], timeoutSeconds: 1_800 },
        lint: { run: ['npm', 'run', 'lint'], timeoutSeconds: 600 },
        typecheck: { run: ['npm', 'run', 'typecheck'], timeoutSeconds: 600 },
      }),
    /**
     * Environment variables passed to commands besides PATH, HOME, LANG, TMPDIR and USER: the
     * node's own environment (its secrets) is not handed on.
     */
    commandEnv: z.array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/)).default([]),
  })
  .strict();

export type WorkspaceSettings = z.output<typeof workspaceSettingsSchema>;
