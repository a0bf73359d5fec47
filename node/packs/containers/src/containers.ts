import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { type CallContext, defineTool, jsonResult, type ToolDefinition } from '@brainmesh/node';
import { confirmChange, confirmField, LOCAL_READS } from '@brainmesh/node/kit';
import { BrainmeshError } from '@brainmesh/shared';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type Docker from 'dockerode';
import { z } from 'zod';
import type { Engine } from './engine.js';
import type { ContainersSettings } from './settings.js';
import { containerDetail, containerRef, containerSummary, statsView } from './views.js';

/** Put on every container this pack creates: who made it, so an operator can tell. */
export const CREATED_BY_LABEL = 'org.brainmesh.created-by';

const change = (destructive: boolean, idempotent: boolean) =>
  ({ readOnlyHint: false, destructiveHint: destructive, idempotentHint: idempotent, openWorldHint: false }) as const;

export const container = z
  .string()
  .regex(containerRef, 'a container name or id')
  .describe('The container, by name or id');

/** Asks the user first (elicitation, else `confirm: true`); refused, the tool says so and does nothing. */
export async function confirmed(
  ctx: CallContext,
  confirm: boolean | undefined,
  what: string,
  act: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  const asked = await confirmChange(ctx, confirm, what);
  if (!asked.ok) return { content: [{ type: 'text', text: asked.reason }], isError: true };
  return act();
}

const portSpec = z
  .object({
    container: z.number().int().min(1).max(65_535).describe('The port inside the container'),
    host: z.number().int().min(0).max(65_535).default(0).describe('The port on this machine; 0 for any free one'),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    hostIp: z.ipv4().or(z.ipv6()).default('127.0.0.1').describe('Where on this machine; loopback unless said'),
  })
  .strict();

const volumeSpec = z
  .object({
    source: z
      .string()
      .min(1)
      .max(4_096)
      .describe('A named volume, or an absolute host path inside a folder the node allows (bindRoots)'),
    target: z.string().regex(/^\//, 'an absolute path in the container').max(4_096),
    readOnly: z.boolean().default(false),
  })
  .strict();

export function containerTools(engine: Engine, settings: ContainersSettings, nodeName: string): ToolDefinition[] {
  const docker = engine.docker;
  const get = (ref: string) => docker.getContainer(ref);
  const inspect = (ref: string) => engine.run(`container ${ref}`, () => get(ref).inspect());

  /** A host path to bind, resolved through links, inside a listed root, or refused. */
  const bindSource = async (source: string): Promise<string> => {
    if (!source.startsWith('/')) {
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(source)) {
        throw new BrainmeshError('INVALID_INPUT', `volume "${source}": a named volume, or an absolute host path`);
      }
      return source;
    }
    const real = await realpath(source).catch(() => {
      throw new BrainmeshError('INVALID_INPUT', `host path ${source} does not exist`);
    });
    for (const root of settings.bindRoots) {
      const r = await realpath(path.resolve(root)).catch(() => undefined);
      if (r !== undefined && (real === r || real.startsWith(r + path.sep))) return real;
    }
    throw new BrainmeshError(
      'FORBIDDEN',
      settings.bindRoots.length === 0
        ? `host path ${source} refused: this node allows no host folders in containers (bindRoots in the containers settings)`
        : `host path ${source} refused: it is outside the folders this node allows (${settings.bindRoots.join(', ')})`,
    );
  };

  return [
    defineTool({
      name: 'container_list',
      description:
        'Lists containers: name, id, image, state, status, ports, labels. Running ones only unless `all`; filter by label (`key` or `key=value`) or a part of the name.',
      input: z.object({
        all: z.boolean().default(false).describe('Stopped ones too'),
        label: z.string().min(1).max(256).optional(),
        name: z.string().min(1).max(128).optional(),
      }),
      annotations: LOCAL_READS,
      handler: async ({ all, label, name }) => {
        const filters: Record<string, string[]> = {};
        if (label !== undefined) filters.label = [label];
        if (name !== undefined) filters.name = [name];
        const list = await engine.run('list containers', () => docker.listContainers({ all, filters }));
        return jsonResult({ containers: list.map(containerSummary) });
      },
    }),
    defineTool({
      name: 'container_inspect',
      description:
        "One container in full: state, exit code, command, ports, mounts, networks, labels, and its environment's names (never their values).",
      input: z.object({ container }),
      annotations: LOCAL_READS,
      handler: async ({ container: ref }) => jsonResult(containerDetail(await inspect(ref))),
    }),
    defineTool({
      name: 'container_top',
      description: 'The processes running in a container.',
      input: z.object({ container }),
      annotations: LOCAL_READS,
      handler: async ({ container: ref }) => {
        const top = await engine.run(`container ${ref}`, () => get(ref).top());
        return jsonResult({
          container: ref,
          titles: top.Titles,
          processes: top.Processes.map((row: string[]) => row.join(' ').replace(/\s+/g, ' ').trim()),
        });
      },
    }),
    defineTool({
      name: 'container_stats',
      description:
        "One reading of a running container's use: CPU (percent of one core), memory, processes, network bytes.",
      input: z.object({ container }),
      annotations: LOCAL_READS,
      handler: async ({ container: ref }) => {
        const stats = await engine.run(`container ${ref}`, () => get(ref).stats({ stream: false }));
        return jsonResult({ container: ref, ...statsView(stats) });
      },
    }),
    defineTool({
      name: 'container_create',
      description:
        'Creates a container from a local image, with a command, environment, ports (published on 127.0.0.1 unless said), volumes and labels; starts it if asked. Host folders only where the node allows them.',
      input: z.object({
        image: z.string().min(1).max(512),
        name: z.string().regex(containerRef, 'letters, digits, _ . -').optional(),
        command: z
          .array(z.string().max(8_192))
          .max(256)
          .optional()
          .describe('The command and its arguments (no shell)'),
        env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(32_768)).default({}),
        ports: z.array(portSpec).max(64).default([]),
        volumes: z.array(volumeSpec).max(64).default([]),
        labels: z.record(z.string().min(1).max(256), z.string().max(4_096)).default({}),
        workingDir: z.string().regex(/^\//).max(4_096).optional(),
        start: z.boolean().default(false).describe('Start it once created'),
      }),
      annotations: change(false, false),
      // Environment values are where secrets go: kept out of the audit trail whole.
      audit: { redact: ['env'] },
      handler: async (args) => {
        const binds: string[] = [];
        const mounts: Docker.MountSettings[] = [];
        for (const v of args.volumes) {
          const source = await bindSource(v.source);
          if (source.startsWith('/')) binds.push(`${source}:${v.target}${v.readOnly ? ':ro' : ''}`);
          else mounts.push({ Type: 'volume', Source: source, Target: v.target, ReadOnly: v.readOnly });
        }
        const exposed: Record<string, object> = {};
        const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
        for (const p of args.ports) {
          const key = `${p.container}/${p.protocol}`;
          exposed[key] = {};
          bindings[key] = [...(bindings[key] ?? []), { HostIp: p.hostIp, HostPort: String(p.host) }];
        }
        const created = await engine.run(`create from ${args.image}`, () =>
          docker.createContainer({
            Image: args.image,
            ...(args.name === undefined ? {} : { name: args.name }),
            ...(args.command === undefined ? {} : { Cmd: args.command }),
            ...(args.workingDir === undefined ? {} : { WorkingDir: args.workingDir }),
            Env: Object.entries(args.env).map(([k, v]) => `${k}=${v}`),
            Labels: { ...args.labels, [CREATED_BY_LABEL]: nodeName },
            ExposedPorts: exposed,
            HostConfig: { Binds: binds, Mounts: mounts, PortBindings: bindings },
          }),
        );
        if (args.start) await engine.run(`start ${created.id.slice(0, 12)}`, () => created.start());
        return jsonResult(containerDetail(await inspect(created.id)));
      },
    }),
    defineTool({
      name: 'container_start',
      description: 'Starts a stopped container (one already running is left as it is).',
      input: z.object({ container }),
      annotations: change(false, true),
      handler: async ({ container: ref }) => {
        await engine.run(`start ${ref}`, () => get(ref).start()).catch(alreadyDone);
        return jsonResult(containerDetail(await inspect(ref)));
      },
    }),
    defineTool({
      name: 'container_stop',
      description: 'Stops a running container: TERM, then KILL after the grace period. Asks the user to confirm first.',
      input: z.object({
        container,
        graceSeconds: z.number().int().min(0).max(600).default(10),
        confirm: confirmField,
      }),
      annotations: change(true, true),
      handler: async ({ container: ref, graceSeconds, confirm }, ctx) => {
        const state = containerDetail(await inspect(ref));
        return confirmed(
          ctx,
          confirm,
          `stop container ${state.name} (${state.image}, ${state.state.status})`,
          async () => {
            await engine.run(`stop ${ref}`, () => get(ref).stop({ t: graceSeconds })).catch(alreadyDone);
            return jsonResult(containerDetail(await inspect(ref)));
          },
        );
      },
    }),
    defineTool({
      name: 'container_restart',
      description:
        'Restarts a container: stopped (TERM, then KILL after the grace period) and started again. Asks the user to confirm first.',
      input: z.object({
        container,
        graceSeconds: z.number().int().min(0).max(600).default(10),
        confirm: confirmField,
      }),
      annotations: change(true, false),
      handler: async ({ container: ref, graceSeconds, confirm }, ctx) => {
        const state = containerDetail(await inspect(ref));
        return confirmed(ctx, confirm, `restart container ${state.name} (${state.image})`, async () => {
          await engine.run(`restart ${ref}`, () => get(ref).restart({ t: graceSeconds }));
          return jsonResult(containerDetail(await inspect(ref)));
        });
      },
    }),
    defineTool({
      name: 'container_remove',
      description:
        'Removes a container (a running one only with `force`), and its anonymous volumes if asked. Cannot be undone. Asks the user to confirm first.',
      input: z.object({
        container,
        force: z.boolean().default(false).describe('Kill it first if it is running'),
        volumes: z.boolean().default(false).describe('Its anonymous volumes too'),
        confirm: confirmField,
      }),
      annotations: change(true, true),
      handler: async ({ container: ref, force, volumes, confirm }, ctx) => {
        const state = containerDetail(await inspect(ref));
        if (state.state.running && !force) {
          throw new BrainmeshError(
            'CONFLICT',
            `container ${state.name} is running: stop it first, or remove with force`,
          );
        }
        return confirmed(
          ctx,
          confirm,
          `remove container ${state.name} (${state.image}, ${state.state.status})${volumes ? ' and its volumes' : ''}`,
          async () => {
            await engine.run(`remove ${ref}`, () => get(ref).remove({ force, v: volumes }));
            return jsonResult({ removed: state.name, id: state.id });
          },
        );
      },
    }),
  ];
}

/** A start of a running container, or a stop of a stopped one, is done already (HTTP 304). */
function alreadyDone(err: unknown): void {
  if (err instanceof BrainmeshError && err.details?.notModified === true) return;
  throw err;
}
