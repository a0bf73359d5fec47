import { defineTool, type ToolDefinition, textResult } from '@brainmesh/node';
import { changes, confirmChange, confirmField, READ_ONLY, reply } from '@brainmesh/node/kit';
import { isBrainmeshError } from '@brainmesh/shared';
import { z } from 'zod';
import type { Mode } from '../connections.js';
import { type DigitalOceanApi, POWER_ACTIONS, type PowerAction } from './client.js';
import type { App, Droplet, DropletAction } from './wire.js';

/**
 * DigitalOcean for a small business: its servers (droplets) and whether they are up, switching
 * one on, off or round, its App Platform apps, and what the account owes.
 */

const dropletId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe('Droplet id (a number)');

const ACTION_WORDS: Record<PowerAction, string> = {
  reboot: 'reboot',
  power_cycle: 'power-cycle (hard reset)',
  shutdown: 'shut down',
  power_off: 'power off (hard, like pulling the plug)',
  power_on: 'power on',
};

export function digitalOceanTools(deps: { api: DigitalOceanApi; mode: Mode }): ToolDefinition[] {
  const { api } = deps;
  const from = { source: deps.mode } as const;

  return [
    defineTool({
      name: 'digitalocean.list_droplets',
      title: 'DigitalOcean: list droplets',
      description:
        'Every droplet (server) in the account, all pages: id, name, status (active, off, new, archive), size, ' +
        'region, public IPv4 and tags. Filter by a tag or a status.',
      input: z.object({
        tag: z
          .string()
          .trim()
          .min(1)
          .max(255)
          .regex(/^[\w:.-]+$/, 'letters, digits and _ : . -')
          .optional()
          .describe('Only droplets with this tag, e.g. "env:prod"'),
        status: z.enum(['new', 'active', 'off', 'archive']).optional().describe('Only droplets in this state'),
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        const all = await api.listDroplets(args.tag === undefined ? {} : { tag: args.tag }, ctx.signal);
        const droplets = args.status === undefined ? all : all.filter((d) => d.status === args.status);
        const byStatus: Record<string, number> = {};
        for (const d of droplets) byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
        return reply(ctx, from, { count: droplets.length, byStatus, droplets: droplets.map(summary) });
      },
    }),

    defineTool({
      name: 'digitalocean.get_droplet',
      title: 'DigitalOcean: one droplet',
      description:
        'One droplet in detail: status, size, image, region, addresses, features, backups, volumes, tags. ' +
        'With action_id (from digitalocean.droplet_action), also that action’s progress: call again until its ' +
        'status is no longer "in-progress".',
      input: z.object({
        droplet_id: dropletId,
        action_id: z
          .number()
          .int()
          .min(1)
          .max(Number.MAX_SAFE_INTEGER)
          .optional()
          .describe('An action to report on, as digitalocean.droplet_action returned it'),
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        // The action first: the droplet read after it then shows what the action did.
        const action = args.action_id === undefined ? undefined : await api.getAction(args.action_id, ctx.signal);
        // An action id is account-wide: one from another droplet (or an image, a volume) must not be
        // shown as this droplet's progress.
        if (action !== undefined && (action.resource_type !== 'droplet' || action.resource_id !== args.droplet_id))
          return textResult(
            `Action ${action.id} (${action.type}) is for ${action.resource_type} ${action.resource_id}, not droplet ` +
              `${args.droplet_id}. Use the droplet_id and action_id that digitalocean.droplet_action returned together.`,
            true,
          );
        const droplet = await api.getDroplet(args.droplet_id, ctx.signal);
        return reply(ctx, from, {
          droplet: detail(droplet),
          ...(action === undefined ? {} : { action: actionView(action) }),
        });
      },
    }),

    defineTool({
      name: 'digitalocean.droplet_action',
      title: 'DigitalOcean: power a droplet',
      description:
        'Reboots, power-cycles, shuts down, powers off or powers on a droplet. shutdown is graceful and can fail; ' +
        'power_off and power_cycle are hard. Reads the droplet first to name it in the confirmation. Returns the ' +
        'action in progress: poll it with digitalocean.get_droplet {droplet_id, action_id}. Sent once and never ' +
        'retried automatically: after an error, check the droplet before trying again.',
      input: z.object({
        droplet_id: dropletId,
        type: z.enum(POWER_ACTIONS).describe('reboot, power_cycle, shutdown, power_off or power_on'),
        confirm: confirmField,
      }),
      annotations: changes(false),
      handler: async (args, ctx) => {
        // A read, so the person confirming sees the droplet's name and state, not only a number.
        const droplet = await api.getDroplet(args.droplet_id, ctx.signal);
        const what = `${ACTION_WORDS[args.type]} droplet ${droplet.name} (id ${droplet.id}, now ${droplet.status})`;
        const ok = await confirmChange(ctx, args.confirm, what);
        if (!ok.ok) return textResult(ok.reason, true);
        const action = await api.dropletAction(args.droplet_id, args.type, ctx.signal);
        return reply(ctx, from, {
          action: actionView(action),
          droplet: { id: droplet.id, name: droplet.name },
          next:
            action.status === 'in-progress'
              ? `Started. Poll with digitalocean.get_droplet {"droplet_id": ${droplet.id}, "action_id": ${action.id}} until the action is no longer in-progress.`
              : `The action is ${action.status}.`,
        });
      },
    }),

    defineTool({
      name: 'digitalocean.get_account',
      title: 'DigitalOcean: account and balance',
      description:
        'The account (email, status, droplet limit, team) and its balance: month-to-date usage, account balance ' +
        '(negative means credit) and month-to-date balance, in USD, as sent and as numbers.',
      input: z.object({}),
      annotations: READ_ONLY,
      handler: async (_args, ctx) => {
        const [account, balance] = await Promise.all([
          api.account(ctx.signal),
          // A token without billing read access still shows the account.
          api.balance(ctx.signal).catch((err: unknown) => {
            if (isBrainmeshError(err, 'FORBIDDEN') || isBrainmeshError(err, 'NOT_FOUND')) return err;
            throw err;
          }),
        ]);
        return reply(ctx, from, {
          account: {
            email: account.email,
            ...(account.name === undefined ? {} : { name: account.name }),
            uuid: account.uuid,
            status: account.status,
            ...(account.status_message?.trim() ? { statusMessage: account.status_message.trim() } : {}),
            ...(account.email_verified === undefined ? {} : { emailVerified: account.email_verified }),
            ...(account.droplet_limit === undefined ? {} : { dropletLimit: account.droplet_limit }),
            ...(isTeam(account.team) ? { team: { uuid: account.team.uuid, name: account.team.name } } : {}),
          },
          balance:
            balance instanceof Error
              ? { unavailable: balance.message }
              : {
                  currency: 'USD',
                  month_to_date_usage: balance.month_to_date_usage,
                  account_balance: balance.account_balance,
                  month_to_date_balance: balance.month_to_date_balance,
                  generated_at: balance.generated_at,
                  amounts: balance.amounts,
                  ...(balance.amounts.account_balance < 0 ? { note: 'A negative account balance is a credit.' } : {}),
                },
        });
      },
    }),

    defineTool({
      name: 'digitalocean.list_apps',
      title: 'DigitalOcean: list apps',
      description:
        'Every App Platform app, all pages: name, id, live URL, region, tier and the active deployment’s phase.',
      input: z.object({}),
      annotations: READ_ONLY,
      handler: async (_args, ctx) => {
        const apps = await api.listApps(ctx.signal);
        return reply(ctx, from, { count: apps.length, apps: apps.map(appView) });
      },
    }),
  ];
}

function publicIpv4(d: Droplet): string | null {
  return d.networks.v4.find((n) => n.type === 'public')?.ip_address ?? null;
}

function summary(d: Droplet) {
  return {
    id: d.id,
    name: d.name,
    status: d.status,
    size: d.size_slug,
    region: d.region.slug,
    publicIpv4: publicIpv4(d),
    tags: d.tags,
  };
}

function detail(d: Droplet) {
  const extra = d as Droplet & {
    features?: unknown;
    backup_ids?: unknown;
    volume_ids?: unknown;
  };
  return {
    id: d.id,
    name: d.name,
    status: d.status,
    locked: d.locked,
    createdAt: d.created_at,
    size: d.size_slug,
    memoryMb: d.memory,
    vcpus: d.vcpus,
    diskGb: d.disk,
    region: { slug: d.region.slug, name: d.region.name },
    image: { ...(d.image.name === undefined ? {} : { name: d.image.name }), slug: d.image.slug ?? null },
    networks: {
      v4: d.networks.v4.map((n) => ({ ip: n.ip_address, type: n.type })),
      v6: d.networks.v6.map((n) => ({ ip: n.ip_address, type: n.type })),
    },
    tags: d.tags,
    ...(Array.isArray(extra.features) ? { features: extra.features } : {}),
    ...(Array.isArray(extra.backup_ids) ? { backups: extra.backup_ids.length } : {}),
    ...(Array.isArray(extra.volume_ids) ? { volumes: extra.volume_ids } : {}),
  };
}

function actionView(a: DropletAction) {
  return {
    id: a.id,
    type: a.type,
    status: a.status,
    startedAt: a.started_at,
    completedAt: a.completed_at,
    resource: { type: a.resource_type, id: a.resource_id },
  };
}

function appView(a: App) {
  return {
    id: a.id,
    name: a.spec.name,
    url: a.live_url ?? a.default_ingress ?? null,
    region: a.region?.slug ?? null,
    tier: a.tier_slug ?? null,
    phase: a.active_deployment?.phase ?? null,
    createdAt: a.created_at,
    ...(a.updated_at === undefined ? {} : { updatedAt: a.updated_at }),
  };
}

function isTeam(team: unknown): team is { uuid: string; name: string } {
  return (
    typeof team === 'object' &&
    team !== null &&
    typeof (team as { uuid?: unknown }).uuid === 'string' &&
    typeof (team as { name?: unknown }).name === 'string'
  );
}
