import type Docker from 'dockerode';

/**
 * What the tools answer about containers and images: the fields an operator reads, in one shape
 * whichever engine answered. Environment values are never shown (they are where secrets live),
 * only their names.
 */

export const containerRef = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

type Port = { IP?: string; PrivatePort: number; PublicPort?: number; Type: string };

export function portText(p: Port): string {
  return p.PublicPort === undefined
    ? `${p.PrivatePort}/${p.Type}`
    : `${p.IP ?? '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`;
}

export function containerSummary(c: Docker.ContainerInfo) {
  return {
    id: c.Id.slice(0, 12),
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    state: c.State,
    status: c.Status,
    created: new Date(c.Created * 1000).toISOString(),
    ports: (c.Ports ?? []).map(portText),
    labels: c.Labels ?? {},
  };
}

export function containerDetail(c: Docker.ContainerInspectInfo) {
  const ports: string[] = [];
  for (const [inside, bindings] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
    if (bindings === null || bindings.length === 0) ports.push(inside);
    else for (const b of bindings) ports.push(`${b.HostIp || '0.0.0.0'}:${b.HostPort}->${inside}`);
  }
  return {
    id: c.Id.slice(0, 12),
    name: c.Name.replace(/^\//, ''),
    image: c.Config.Image,
    created: c.Created,
    state: {
      status: c.State.Status,
      running: c.State.Running,
      exitCode: c.State.ExitCode,
      startedAt: c.State.StartedAt,
      finishedAt: c.State.FinishedAt,
      ...(c.State.Error ? { error: c.State.Error } : {}),
    },
    command: [...(c.Config.Entrypoint ? [c.Config.Entrypoint].flat() : []), ...(c.Config.Cmd ?? [])],
    workingDir: c.Config.WorkingDir,
    envNames: (c.Config.Env ?? []).map((e) => e.split('=')[0]),
    labels: c.Config.Labels ?? {},
    tty: c.Config.Tty,
    restartCount: c.RestartCount,
    ports,
    mounts: (c.Mounts ?? []).map((m) => ({
      type: m.Type,
      source: m.Name ?? m.Source,
      target: m.Destination,
      readOnly: !m.RW,
    })),
    networks: Object.fromEntries(
      Object.entries(c.NetworkSettings?.Networks ?? {}).map(([name, n]) => [name, { ip: n.IPAddress }]),
    ),
  };
}

export function imageSummary(i: Docker.ImageInfo) {
  return {
    id: i.Id.replace(/^sha256:/, '').slice(0, 12),
    tags: i.RepoTags ?? [],
    created: new Date(i.Created * 1000).toISOString(),
    sizeBytes: i.Size,
    labels: i.Labels ?? {},
  };
}

/** One reading of a container's use: CPU as a percentage of one core, memory in bytes. */
export function statsView(s: Docker.ContainerStats) {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus ?? s.cpu_stats.cpu_usage.percpu_usage?.length ?? 1;
  const networks = Object.values(s.networks ?? {});
  return {
    read: s.read,
    cpuPercent: systemDelta > 0 && cpuDelta >= 0 ? Math.round((cpuDelta / systemDelta) * cpus * 10_000) / 100 : 0,
    memory: { usageBytes: s.memory_stats.usage ?? 0, limitBytes: s.memory_stats.limit ?? 0 },
    pids: s.pids_stats?.current ?? 0,
    network: {
      receivedBytes: networks.reduce((n, x) => n + (x.rx_bytes ?? 0), 0),
      sentBytes: networks.reduce((n, x) => n + (x.tx_bytes ?? 0), 0),
    },
  };
}
