import cron from 'node-cron';
import { z } from 'zod';

/**
 * MedTainer's settings: its `settings:` block in a node config (`packs: [{ use: medtainer, settings }]`). Each service runs live when its
 * credentials are set and on the sample business otherwise, so a fresh machine can try every tool
 * and a business can connect one service at a time.
 */

const baseUrl = z.url({ protocol: /^https?$/ });

export const medtainerSettingsSchema = z
  .object({
    gohighlevel: z
      .object({
        baseUrl: baseUrl.default('https://services.leadconnectorhq.com'),
        /** A Private Integration token or a sub-account OAuth access token. */
        token: z.string().min(1).optional(),
        /** The sub-account (location) every call is made for. */
        locationId: z.string().min(1).optional(),
      })
      .strict()
      .default({ baseUrl: 'https://services.leadconnectorhq.com' }),
    godaddy: z
      .object({
        /** Production is api.godaddy.com; OTE (GoDaddy's test environment) is api.ote-godaddy.com. */
        baseUrl: baseUrl.default('https://api.godaddy.com'),
        apiKey: z.string().min(1).optional(),
        apiSecret: z.string().min(1).optional(),
        /** Only for resellers acting for a customer account. */
        shopperId: z.string().min(1).optional(),
      })
      .strict()
      .default({ baseUrl: 'https://api.godaddy.com' }),
    digitalocean: z
      .object({
        baseUrl: baseUrl.default('https://api.digitalocean.com'),
        token: z.string().min(1).optional(),
      })
      .strict()
      .default({ baseUrl: 'https://api.digitalocean.com' }),
    sync: z
      .object({
        /** When the sync job runs (cron syntax, seconds field optional). */
        schedule: z
          .string()
          .refine((s) => cron.validate(s), 'not a valid cron expression')
          .default('*/15 * * * *'),
        /** Read tools answer from the cache while its data is younger than this. */
        maxAgeMinutes: z.number().positive().max(1440).default(20),
      })
      .strict()
      .default({ schedule: '*/15 * * * *', maxAgeMinutes: 20 }),
  })
  .strict()
  .superRefine((s, ctx) => {
    const ghl = s.gohighlevel;
    if ((ghl.token === undefined) !== (ghl.locationId === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['gohighlevel'],
        message: 'set both token and locationId, or neither (sample mode)',
      });
    if ((s.godaddy.apiKey === undefined) !== (s.godaddy.apiSecret === undefined))
      ctx.addIssue({ code: 'custom', path: ['godaddy'], message: 'set both apiKey and apiSecret, or neither' });
  });

export type MedtainerSettings = z.infer<typeof medtainerSettingsSchema>;

/** Environment variables that set a field of MedTainer's settings (secrets belong there, not in YAML). */
export const medtainerEnv: Readonly<Record<string, string>> = {
  GOHIGHLEVEL_TOKEN: 'gohighlevel.token',
  GOHIGHLEVEL_LOCATION_ID: 'gohighlevel.locationId',
  GOHIGHLEVEL_BASE_URL: 'gohighlevel.baseUrl',
  GODADDY_API_KEY: 'godaddy.apiKey',
  GODADDY_API_SECRET: 'godaddy.apiSecret',
  GODADDY_BASE_URL: 'godaddy.baseUrl',
  DIGITALOCEAN_TOKEN: 'digitalocean.token',
  DIGITALOCEAN_BASE_URL: 'digitalocean.baseUrl',
};
