import { z } from 'zod';

/** DigitalOcean API v2 bodies as documented (docs/research/digitalocean.md). */

export const droplet = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  memory: z.number(),
  vcpus: z.number(),
  disk: z.number(),
  locked: z.boolean(),
  status: z.enum(['new', 'active', 'off', 'archive']),
  created_at: z.string(),
  size_slug: z.string(),
  region: z.looseObject({ slug: z.string(), name: z.string() }),
  image: z.looseObject({ id: z.number().optional(), name: z.string().optional(), slug: z.string().nullish() }),
  networks: z.looseObject({
    v4: z.array(z.looseObject({ ip_address: z.string(), type: z.string() })).default([]),
    v6: z.array(z.looseObject({ ip_address: z.string(), type: z.string() })).default([]),
  }),
  tags: z.array(z.string()).default([]),
});
export type Droplet = z.infer<typeof droplet>;

export const dropletAction = z.looseObject({
  id: z.number().int(),
  status: z.enum(['in-progress', 'completed', 'errored']),
  type: z.string(),
  started_at: z.string(),
  completed_at: z.string().nullable(),
  resource_id: z.number().int(),
  resource_type: z.string(),
  region_slug: z.string().nullish(),
});
export type DropletAction = z.infer<typeof dropletAction>;

export const account = z.looseObject({
  droplet_limit: z.number().optional(),
  email: z.string(),
  name: z.string().optional(),
  uuid: z.string(),
  email_verified: z.boolean().optional(),
  status: z.string(),
  status_message: z.string().optional(),
});
export type Account = z.infer<typeof account>;

/** Not wrapped in a key, and the amounts are decimal strings. */
export const balance = z.looseObject({
  month_to_date_balance: z.string(),
  account_balance: z.string(),
  month_to_date_usage: z.string(),
  generated_at: z.string(),
});
export type Balance = z.infer<typeof balance>;

export const app = z.looseObject({
  id: z.string(),
  spec: z.looseObject({ name: z.string() }),
  default_ingress: z.string().optional(),
  live_url: z.string().optional(),
  created_at: z.string(),
  updated_at: z.string().optional(),
  active_deployment: z.looseObject({ id: z.string(), phase: z.string().optional() }).optional(),
  region: z.looseObject({ slug: z.string() }).optional(),
  tier_slug: z.string().optional(),
});
export type App = z.infer<typeof app>;
