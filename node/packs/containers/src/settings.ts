import { z } from 'zod';

export const containersSettingsSchema = z
  .object({
    /**
     * The engine's socket, `unix:///run/docker.sock` or a plain path. Unset: DOCKER_HOST (the
     * pack's env), else /var/run/docker.sock. Only unix sockets: an engine API on TCP without
     * TLS is root on its host for anyone who reaches it.
     */
    host: z.string().min(1).optional(),
    /**
     * Host folders a new container may mount. None by default: mounting a host path is a way
     * out of any container, so it is refused unless its folder is listed here. Named volumes
     * are always allowed.
     */
    bindRoots: z.array(z.string().min(1)).default([]),
    /** Longest a logs follow or an exec may run, in seconds; each call may ask for less. */
    maxStreamSeconds: z.number().int().min(1).max(86_400).default(600),
  })
  .strict();

export type ContainersSettings = z.output<typeof containersSettingsSchema>;
