import { baseConfigSchema, baseEnvOverrides, type EnvOverride, loadConfig } from '@brainmesh/shared';
import cron from 'node-cron';
import { z } from 'zod';
import { HOST_PATTERN } from './routes/host.js';

export const hubConfigSchema = baseConfigSchema
  .extend({
    hub: z
      .object({
        /** The hub's identity in link tokens (`iss`); stable across restarts. */
        id: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes')
          .default('hub'),
        /**
         * The URL clients use to reach this hub (the OAuth issuer; `<publicUrl>/mcp` is the
         * resource tokens are for). By default, the address it listens on.
         */
        publicUrl: z.url({ protocol: /^https?$/ }).optional(),
        /**
         * The hub's signing keys (link tokens, audit batches): `<home>/keys.json` unless set.
         * Replicas behind one load balancer name one file (a secret each of them mounts), so a
         * node, which pins the hub's keys at enrolment, links to any of them.
         */
        keysFile: z.string().min(1).optional(),
      })
      .strict()
      .default({ id: 'hub' }),
    server: z
      .object({
        /** Loopback unless an operator says otherwise. */
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /**
         * Browser origins allowed to call the hub (besides its own). A request with any other
         * Origin header is refused with 403, against DNS rebinding and cross-site calls.
         */
        allowedOrigins: z.array(z.url()).default([]),
        /**
         * Host names the hub answers to besides its own (loopback names on its port, and the
         * host of `hub.publicUrl`): `name` (any port) or `name:port`. Any other Host header gets
         * 403, against DNS rebinding. Bound beyond loopback, Host is checked only when this is set.
         */
        allowedHosts: z
          .array(
            z
              .string()
              .toLowerCase()
              .regex(HOST_PATTERN, 'a host name or address, optionally with :port (no scheme, no path)'),
          )
          .default([]),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080, allowedOrigins: [], allowedHosts: [] }),
    links: z
      .object({
        /** How long a proxied call may take (progress resets the clock). */
        callTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
        healthIntervalMs: z.number().int().min(100).max(600_000).default(5_000),
        healthTimeoutMs: z.number().int().min(50).max(60_000).default(2_000),
        /** Consecutive link failures that open a node's circuit, and how long it stays open. */
        breakerFailures: z.number().int().min(1).max(100).default(5),
        breakerHalfOpenMs: z.number().int().min(100).max(600_000).default(10_000),
        /**
         * The most a client's message may nest and weigh (as JSON) to be taken and passed on;
         * past either, the request is refused (-32602) before anything reads it. Nodes take
         * bodies up to 1 MiB, so a larger size would only move the refusal to them.
         */
        maxMessageDepth: z.number().int().min(8).max(1_000).default(64),
        maxMessageBytes: z.number().int().min(1_024).max(1_040_000).default(1_000_000),
      })
      .strict()
      .default({
        callTimeoutMs: 60_000,
        healthIntervalMs: 5_000,
        healthTimeoutMs: 2_000,
        breakerFailures: 5,
        breakerHalfOpenMs: 10_000,
        maxMessageDepth: 64,
        maxMessageBytes: 1_000_000,
      }),
    /** Per principal and fixed window, shared by every replica through the store. */
    limits: z
      .object({
        windowSeconds: z.number().int().min(1).max(86_400).default(60),
        /** HTTP requests a window (MCP and admin API); past it, 429 with Retry-After. */
        requests: z.number().int().min(1).default(1_200),
        /** Tool calls a window by class: read-only, writing, destructive (MCP's annotations). */
        toolCalls: z
          .object({
            read: z.number().int().min(1).default(600),
            write: z.number().int().min(1).default(120),
            destructive: z.number().int().min(1).default(30),
          })
          .strict()
          .default({ read: 600, write: 120, destructive: 30 }),
      })
      .strict()
      .default({ windowSeconds: 60, requests: 1_200, toolCalls: { read: 600, write: 120, destructive: 30 } }),
    oauth: z
      .object({
        /**
         * How often a new key starts signing the consent form and the sign-in cookie. Keys live
         * in the database, shared by every replica; one keeps verifying for 12 hours after it
         * stops signing, the life of what it signed.
         */
        formKeyRotationHours: z
          .number()
          .int()
          .min(1)
          .max(90 * 24)
          .default(24),
      })
      .strict()
      .default({ formKeyRotationHours: 24 }),
    enrolment: z
      .object({
        ttlMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(15),
      })
      .strict()
      .default({ ttlMinutes: 15 }),
    audit: z
      .object({
        /** Central audit rows (and the hub's call records) older than this are removed; 0 keeps them all. */
        retentionDays: z.number().int().min(0).max(36_500).default(90),
        /** When the retention job runs (cron, the hub's local time). */
        retentionSchedule: z
          .string()
          .refine((expr) => cron.validate(expr), 'a cron expression such as "17 3 * * *"')
          .default('17 3 * * *'),
      })
      .strict()
      .default({ retentionDays: 90, retentionSchedule: '17 3 * * *' }),
  })
  .strict();

export type HubConfig = z.infer<typeof hubConfigSchema>;

export const hubEnvOverrides: Readonly<Record<string, EnvOverride>> = {
  ...baseEnvOverrides,
  BRAINMESH_HUB_HOST: { path: ['server', 'host'], type: 'string' },
  BRAINMESH_HUB_PORT: { path: ['server', 'port'], type: 'port' },
  BRAINMESH_HUB_KEYS_FILE: { path: ['hub', 'keysFile'], type: 'string' },
  BRAINMESH_HUB_PUBLIC_URL: { path: ['hub', 'publicUrl'], type: 'string' },
};

export function loadHubConfig(options: {
  file?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  overrides?: Record<string, unknown>;
}): Readonly<HubConfig> {
  return loadConfig({
    schema: hubConfigSchema,
    file: options.file,
    env: options.env,
    envOverrides: hubEnvOverrides,
    ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
  });
}
