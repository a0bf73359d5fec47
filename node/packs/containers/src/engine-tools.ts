import { defineTool, jsonResult, type ToolDefinition } from '@brainmesh/node';
import { LOCAL_READS } from '@brainmesh/node/kit';
import { z } from 'zod';
import type { Engine } from './engine.js';
import { containerSummary, imageSummary } from './views.js';

/** Compose marks what it runs with these labels; a project's status is read from them alone. */
const PROJECT = 'com.docker.compose.project';
const SERVICE = 'com.docker.compose.service';

/** The engine itself and what it holds besides containers: images, networks, volumes, compose projects. */
export function engineTools(engine: Engine): ToolDefinition[] {
  const docker = engine.docker;
  return [
    defineTool({
      name: 'engine_info',
      description:
        'The container engine this node talks to: which (Docker, podman), its version and API version, and how many containers (running, stopped) and images it has.',
      input: z.object({}),
      annotations: LOCAL_READS,
      handler: async () => {
        const [version, info] = await Promise.all([
          engine.run('engine version', () => docker.version()),
          engine.run('engine info', () => docker.info()),
        ]);
        const components = (version.Components ?? []).map((c) => c.Name);
        return jsonResult({
          socket: `unix://${engine.socketPath}`,
          engine: components[0] ?? 'Docker Engine',
          version: version.Version,
          apiVersion: version.ApiVersion,
          os: `${version.Os}/${version.Arch}`,
          containers: {
            total: info.Containers as number,
            running: info.ContainersRunning as number,
            stopped: info.ContainersStopped as number,
          },
          images: info.Images as number,
        });
      },
    }),
    defineTool({
      name: 'image_list',
      description: 'Lists the images on this machine: id, tags, created, size, labels.',
      input: z.object({ all: z.boolean().default(false).describe('Intermediate images too') }),
      annotations: LOCAL_READS,
      handler: async ({ all }) => {
        const images = await engine.run('list images', () => docker.listImages({ all }));
        return jsonResult({ images: images.map(imageSummary) });
      },
    }),
    defineTool({
      name: 'image_inspect',
      description:
        'One image in full: tags, created, size, its default command, entrypoint, working folder, exposed ports, environment names and labels.',
      input: z.object({ image: z.string().min(1).max(512) }),
      annotations: LOCAL_READS,
      handler: async ({ image }) => {
        const i = await engine.run(`image ${image}`, () => docker.getImage(image).inspect());
        return jsonResult({
          id: i.Id.replace(/^sha256:/, '').slice(0, 12),
          tags: i.RepoTags ?? [],
          created: i.Created,
          sizeBytes: i.Size,
          os: `${i.Os}/${i.Architecture}`,
          command: i.Config?.Cmd ?? [],
          entrypoint: [i.Config?.Entrypoint ?? []].flat(),
          workingDir: i.Config?.WorkingDir ?? '',
          exposedPorts: Object.keys(i.Config?.ExposedPorts ?? {}),
          envNames: (i.Config?.Env ?? []).map((e) => e.split('=')[0]),
          labels: i.Config?.Labels ?? {},
        });
      },
    }),
    defineTool({
      name: 'network_list',
      description: 'Lists the container networks: name, id, driver, scope, subnets.',
      input: z.object({}),
      annotations: LOCAL_READS,
      handler: async () => {
        const networks = await engine.run('list networks', () => docker.listNetworks());
        return jsonResult({
          networks: networks.map((n) => ({
            name: n.Name,
            id: n.Id.slice(0, 12),
            driver: n.Driver,
            scope: n.Scope,
            subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => s !== undefined),
          })),
        });
      },
    }),
    defineTool({
      name: 'volume_list',
      description: 'Lists the named volumes: name, driver, where it lives, labels.',
      input: z.object({}),
      annotations: LOCAL_READS,
      handler: async () => {
        const { Volumes } = await engine.run('list volumes', () => docker.listVolumes());
        return jsonResult({
          volumes: (Volumes ?? []).map((v) => ({
            name: v.Name,
            driver: v.Driver,
            mountpoint: v.Mountpoint,
            labels: v.Labels ?? {},
          })),
        });
      },
    }),
    defineTool({
      name: 'compose_status',
      description:
        "Compose-style status from the containers' compose labels: every project with its services and how many of each run, or one project's services in full.",
      input: z.object({ project: z.string().min(1).max(128).optional() }),
      annotations: LOCAL_READS,
      handler: async ({ project }) => {
        const label = project === undefined ? PROJECT : `${PROJECT}=${project}`;
        const list = await engine.run('list containers', () =>
          docker.listContainers({ all: true, filters: { label: [label] } }),
        );
        const projects = new Map<string, Map<string, ReturnType<typeof containerSummary>[]>>();
        for (const c of list) {
          const p = c.Labels[PROJECT]!;
          const service = c.Labels[SERVICE] ?? '(none)';
          const services = projects.get(p) ?? new Map();
          projects.set(p, services);
          services.set(service, [...(services.get(service) ?? []), containerSummary(c)]);
        }
        const view = [...projects]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, services]) => {
            const rows = [...services]
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([service, containers]) => ({
                service,
                running: containers.filter((c) => c.state === 'running').length,
                total: containers.length,
                ...(project === undefined ? {} : { containers }),
              }));
            const running = rows.reduce((n, r) => n + r.running, 0);
            const total = rows.reduce((n, r) => n + r.total, 0);
            return {
              project: name,
              status: running === total ? 'running' : running === 0 ? 'stopped' : 'partly running',
              running,
              total,
              services: rows,
            };
          });
        if (project !== undefined && view.length === 0) {
          return jsonResult({ project, status: 'not found', running: 0, total: 0, services: [] });
        }
        return jsonResult(project === undefined ? { projects: view } : view[0]!);
      },
    }),
  ];
}
