import {
  auditPolicySchema,
  baseConfigSchema,
  baseEnvOverrides,
  DEFAULT_MAX_AUDIT_RESPONSE_BYTES,
  type EnvOverride,
  loadConfig,
} from '@brainmesh/shared';
import { z } from 'zod';

const nodeName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'lowercase letters, digits and dashes, at most 63, starting with a letter or digit',
  );

const mountName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, _ and -, at most 32');

/** An existing MCP server served as part of this node: a command over stdio, or a URL. */
export const mountSchema = z.discriminatedUnion('transport', [
  z
    .object({
      transport: z.literal('stdio'),
      name: mountName,
      command: z.string().min(1),
      args: z.array(z.string()).default([]),
      /**
       * Passed to the process on top of a minimal environment (PATH, HOME…); nothing else leaks
       * in. `${MOUNT_DATA}` in a value is a folder of the mount's own in the node's data folder.
       */
      env: z.record(z.string(), z.string()).default({}),
      cwd: z.string().optional(),
      /** Put before each of its names (`<prefix>_<name>`), for mounts whose names would collide. */
      prefix: mountName.optional(),
      /** Fields of its tools' arguments and results to keep out of the audit trail. */
      audit: auditPolicySchema.optional(),
    })
    .strict(),
  z
    .object({
      transport: z.literal('http'),
      name: mountName,
      url: z.url({ protocol: /^https?$/ }),
      headers: z.record(z.string(), z.string()).default({}),
      prefix: mountName.optional(),
      /** Fields of its tools' arguments and results to keep out of the audit trail. */
      audit: auditPolicySchema.optional(),
    })
    .strict(),
]);

export type MountConfig = z.infer<typeof mountSchema>;

/** A pack by name (`devtools`, `@acme/brainmesh-pack-crm`), with its settings as the file holds them. */
const packBlock = z.union([
  z
    .string()
    .min(1)
    .transform((use) => ({ use, settings: undefined as Record<string, unknown> | undefined })),
  z
    .object({
      use: z.string().min(1),
      settings: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
]);

export type PackBlock = z.output<typeof packBlock>;

export const nodeConfigSchema = baseConfigSchema
  .extend({
    node: z.object({ name: nodeName, description: z.string().max(500).optional() }).strict(),
    /**
     * Where the node listens for the hub. A node that dials the hub (`hub.dial`) listens only if
     * this block is given: a laptop behind NAT opens no port by default (`listens` below).
     */
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(0),
        /** The URL the hub should use to reach this node; by default the address it listens on. */
        publicUrl: z.url({ protocol: /^https?$/ }).optional(),
      })
      .strict()
      .optional(),
    hub: z
      .object({
        url: z.url({ protocol: /^https?$/ }),
        /** One-time token from `brainmesh nodes enroll`; needed on the first start only. */
        enrolmentToken: z.string().min(1).optional(),
        /**
         * The node dials the hub and keeps the link up, for a node the hub cannot reach (behind
         * NAT, a laptop): it then tells the hub no URL. Otherwise the hub dials the node.
         */
        dial: z.boolean().default(false),
      })
      .strict(),
    /**
     * Tool packs to serve: `{ use: <pack>, settings: {...} }`, or the pack alone as shorthand. The
     * settings are checked by the pack's own schema once it is loaded (pack-loader.ts).
     */
    packs: z.array(packBlock).default([]),
    mounts: z.array(mountSchema).default([]),
    audit: z
      .object({
        /** A result larger than this (as JSON) is kept in the audit trail as its size and digest. */
        maxResponseBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(DEFAULT_MAX_AUDIT_RESPONSE_BYTES),
      })
      .strict()
      .default({ maxResponseBytes: DEFAULT_MAX_AUDIT_RESPONSE_BYTES }),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.mounts.forEach((m, i) => {
      if (seen.has(m.name))
        ctx.addIssue({ code: 'custom', path: ['mounts', i, 'name'], message: `mount "${m.name}" appears twice` });
      seen.add(m.name);
    });
  });

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/**
 * Where the node listens, or undefined for none: a node the hub dials always listens (on
 * 127.0.0.1 and a free port unless told); a node that dials the hub only with a `server` block.
 */
export function listenAddress(config: Readonly<NodeConfig>): Readonly<NonNullable<NodeConfig['server']>> | undefined {
  if (config.server !== undefined) return config.server;
  return config.hub.dial ? undefined : { host: '127.0.0.1', port: 0 };
}

export const nodeEnvOverrides: Readonly<Record<string, EnvOverride>> = {
  ...baseEnvOverrides,
  BRAINMESH_NODE_HOST: { path: ['server', 'host'], type: 'string' },
  BRAINMESH_NODE_PORT: { path: ['server', 'port'], type: 'port' },
  BRAINMESH_NODE_PUBLIC_URL: { path: ['server', 'publicUrl'], type: 'string' },
  BRAINMESH_HUB_URL: { path: ['hub', 'url'], type: 'string' },
  BRAINMESH_ENROLMENT_TOKEN: { path: ['hub', 'enrolmentToken'], type: 'string' },
  BRAINMESH_HUB_DIAL: { path: ['hub', 'dial'], type: 'boolean' },
};

export function loadNodeConfig(options: {
  file?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  overrides?: Record<string, unknown>;
}): Readonly<NodeConfig> {
  return loadConfig({
    schema: nodeConfigSchema,
    file: options.file,
    env: options.env,
    envOverrides: nodeEnvOverrides,
    ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
  });
}
