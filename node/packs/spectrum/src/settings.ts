import cron from 'node-cron';
import { z } from 'zod';

export const spectrumSettingsSchema = z
  .object({
    /** `sample`: on first start (an empty board and knowledge base), seed the sample agency. */
    seed: z.enum(['sample', 'none']).default('none'),
    /**
     * A folder of .md and .txt files to keep in the knowledge base (relative to the working
     * directory): read at start, each file a document whose slug is its path; a changed file
     * becomes a new version.
     */
    knowledgeFolder: z.string().min(1).optional(),
    /** The hub name of the node whose CRM the Closer reads leads from (MedTainer's). */
    crmNode: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/)
      .default('medtainer'),
    /** How long a claim lasts unless renewed. */
    leaseSeconds: z.number().int().min(5).max(86_400).default(900),
    digest: z
      .object({
        /** When the Operator's daily digest is written (cron syntax). */
        schedule: z
          .string()
          .refine((s) => cron.validate(s), 'not a valid cron expression')
          .default('0 7 * * *'),
      })
      .strict()
      .default({ schedule: '0 7 * * *' }),
    /** Hours an open task of each priority may wait before it breaks its SLA. */
    slaHours: z
      .object({
        1: z.number().positive(),
        2: z.number().positive(),
        3: z.number().positive(),
        4: z.number().positive(),
        5: z.number().positive(),
      })
      .strict()
      .default({ 1: 4, 2: 24, 3: 72, 4: 168, 5: 336 }),
  })
  .strict()
  .default({
    seed: 'none',
    crmNode: 'medtainer',
    leaseSeconds: 900,
    digest: { schedule: '0 7 * * *' },
    slaHours: { 1: 4, 2: 24, 3: 72, 4: 168, 5: 336 },
  });

export type SpectrumSettings = z.output<typeof spectrumSettingsSchema>;
