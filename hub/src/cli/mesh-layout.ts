import path from 'node:path';
import { BrainmeshError, loadConfig } from '@brainmesh/shared';
import { z } from 'zod';

/**
 * `configs/mesh.yaml`: which hub config and which node configs `brainmesh up` runs together.
 * Each node config is read here only for its name, its port and whether it dials the hub (the
 * node checks the rest itself when it starts), so this file knows the node's config format no
 * further than those fields.
 */

const port = z.number().int().min(0).max(65535);

const layoutSchema = z
  .object({
    hub: z.object({ config: z.string().min(1), port: port.optional() }).strict(),
    nodes: z.array(z.object({ config: z.string().min(1), port: port.optional() }).strict()).default([]),
  })
  .strict();

const nodeHeadSchema = z.looseObject({
  node: z.looseObject({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a node name') }),
  server: z.looseObject({ port: port.optional() }).optional(),
  hub: z.looseObject({ dial: z.boolean().optional() }).optional(),
});

const hubHeadSchema = z.looseObject({ server: z.looseObject({ port: port.optional() }).optional() });

export interface MeshLayout {
  file: string;
  hub: { config: string; port: number };
  /** A node's port: the mesh file's, else its config's; none for a node that only dials the hub. */
  nodes: Array<{ name: string; config: string; port: number | undefined }>;
}

export function loadMeshLayout(file: string): MeshLayout {
  const layout = loadConfig({ schema: layoutSchema, file, envOverrides: {} });
  const dir = path.dirname(file);
  const hubConfig = path.resolve(dir, layout.hub.config);
  const hubHead = loadConfig({ schema: hubHeadSchema, file: hubConfig, envOverrides: {} });
  const nodes = layout.nodes.map((entry) => {
    const config = path.resolve(dir, entry.config);
    const head = loadConfig({ schema: nodeHeadSchema, file: config, envOverrides: {} });
    const listens = head.server !== undefined || head.hub?.dial !== true;
    return { name: head.node.name, config, port: entry.port ?? head.server?.port ?? (listens ? 0 : undefined) };
  });
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node.name)) {
      throw new BrainmeshError('CONFIG_INVALID', `${file}: nodes: two nodes are named ${node.name}`);
    }
    seen.add(node.name);
  }
  return { file, hub: { config: hubConfig, port: layout.hub.port ?? hubHead.server?.port ?? 8080 }, nodes };
}
