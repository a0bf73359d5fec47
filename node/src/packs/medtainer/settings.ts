import type { EnvOverride } from '@brainmesh/shared';
import cron from 'node-cron';
import { z } from 'zod';

/**
 * MedTainer's part of a node config (`medtainer:` in YAML). Each service runs live when its
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

export const medtainerEnvOverrides: Readonly<Record<string, EnvOverride>> = {
  GOHIGHLEVEL_TOKEN: { path: ['medtainer', 'gohighlevel', 'token'], type: 'string' },
  GOHIGHLEVEL_LOCATION_ID: { path: ['medtainer', 'gohighlevel', 'locationId'], type: 'string' },
  GOHIGHLEVEL_BASE_URL: { path: ['medtainer', 'gohighlevel', 'baseUrl'], type: 'string' },
  GODADDY_API_KEY: { path: ['medtainer', 'godaddy', 'apiKey'], type: 'string' },
  GODADDY_API_SECRET: { path: ['medtainer', 'godaddy', 'apiSecret'], type: 'string' },
  GODADDY_BASE_URL: { path: ['medtainer', 'godaddy', 'baseUrl'], type: 'string' },
  DIGITALOCEAN_TOKEN: { path: ['medtainer', 'digitalocean', 'token'], type: 'string' },
  DIGITALOCEAN_BASE_URL: { path: ['medtainer', 'digitalocean', 'baseUrl'], type: 'string' },
};
