import {
  ApiClient,
  type Emulator,
  type EmulatorOptions,
  outboundLimiter,
  type PackMetrics,
  SAMPLE_ORIGIN,
  type ServicePolicy,
} from '@brainmesh/node/kit';
import type { Logger, Store } from '@brainmesh/shared';
import { DIGITALOCEAN_LIMIT, digitalOceanPolicy } from './digitalocean/policy.js';
import { GODADDY_LIMIT, goDaddyPolicy } from './godaddy/policy.js';
import { GOHIGHLEVEL_LIMIT, goHighLevelPolicy } from './gohighlevel/policy.js';
import { SAMPLE_LOCATION_ID, type SampleBusiness } from './sample/business.js';
import { digitalOceanEmulator } from './sample/digitalocean.js';
import { goDaddyEmulator } from './sample/godaddy.js';
import { goHighLevelEmulator } from './sample/gohighlevel.js';
import type { MedtainerSettings } from './settings.js';

/**
 * One client per service: live against the service when its credentials are set, or against its
 * emulator over the sample business. The tools cannot tell the two apart, except by `mode`, which
 * they report as the data's source. Given a store, a live service's budget is shared with every
 * node that uses the same credential (two nodes with one GoHighLevel token share its 100 per
 * 10 s); without one, it is this process's own.
 */

export type Mode = 'live' | 'sample';

export interface Connection {
  client: ApiClient;
  mode: Mode;
}

export interface Connections {
  gohighlevel: Connection & { locationId: string };
  godaddy: Connection & { shopperId: string | undefined };
  digitalocean: Connection;
}

/** The credentials sample mode sends: the emulators check auth as the services do. */
const SAMPLE_CREDENTIALS = {
  gohighlevel: { token: 'sample-token', locationId: SAMPLE_LOCATION_ID },
  godaddy: { key: 'sample-key', secret: 'sample-secret' },
  digitalocean: { token: 'sample-token' },
} as const;

/** Nothing is spared in sample mode, so nothing is rate limited: a user may try everything at once. */
const SAMPLE_EMULATION: EmulatorOptions = { rateLimits: false };

/** Seconds a request may wait for a service's budget: from none to the API client's 30 s. */
const WAIT_SECONDS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];

export function connect(
  settings: MedtainerSettings,
  logger: Logger,
  business: () => SampleBusiness,
  store?: Store,
  metrics?: PackMetrics,
): Connections {
  const { gohighlevel: ghl, godaddy: gd, digitalocean: doc } = settings;
  const waits = metrics?.histogram('outbound_wait_seconds', {
    help: "How long each request to a service waited for the service's rate budget, by service and whether it was then sent or refused.",
    labelNames: ['service', 'outcome'],
    buckets: WAIT_SECONDS,
  });
  const live = (
    policy: ServicePolicy,
    limit: { points: number; durationMs: number },
    baseUrl: string,
    auth: Record<string, string>,
  ) => {
    // The credential is the auth header itself: the budget is the credential's, and only its hash is kept.
    const limiter = outboundLimiter({
      service: policy.title,
      credential: Object.values(auth).join('\n'),
      limit,
      store,
    });
    return new ApiClient({
      policy,
      baseUrl,
      auth: () => auth,
      limiter,
      logger,
      ...(waits === undefined
        ? {}
        : { onLimiterWait: (ms, outcome) => waits.observe({ service: policy.title, outcome }, ms / 1000) }),
    });
  };
  const sample = (policy: ServicePolicy, emulator: Emulator, auth: Record<string, string>) =>
    new ApiClient({ policy, baseUrl: SAMPLE_ORIGIN, auth: () => auth, limiter: null, logger, fetch: emulator.fetch });

  const ghlAuth = (token: string) => ({ authorization: `Bearer ${token}` });
  const gdAuth = (key: string, secret: string) => ({ authorization: `sso-key ${key}:${secret}` });
  const doAuth = (token: string) => ({ authorization: `Bearer ${token}` });

  return {
    gohighlevel:
      ghl.token !== undefined && ghl.locationId !== undefined
        ? {
            mode: 'live',
            locationId: ghl.locationId,
            client: live(goHighLevelPolicy, GOHIGHLEVEL_LIMIT, ghl.baseUrl, ghlAuth(ghl.token)),
          }
        : {
            mode: 'sample',
            locationId: SAMPLE_CREDENTIALS.gohighlevel.locationId,
            client: sample(
              goHighLevelPolicy,
              goHighLevelEmulator(business(), SAMPLE_CREDENTIALS.gohighlevel, SAMPLE_EMULATION),
              ghlAuth(SAMPLE_CREDENTIALS.gohighlevel.token),
            ),
          },
    godaddy:
      gd.apiKey !== undefined && gd.apiSecret !== undefined
        ? {
            mode: 'live',
            shopperId: gd.shopperId,
            client: live(goDaddyPolicy, GODADDY_LIMIT, gd.baseUrl, gdAuth(gd.apiKey, gd.apiSecret)),
          }
        : {
            mode: 'sample',
            shopperId: undefined,
            client: sample(
              goDaddyPolicy,
              goDaddyEmulator(business(), SAMPLE_CREDENTIALS.godaddy, SAMPLE_EMULATION),
              gdAuth(SAMPLE_CREDENTIALS.godaddy.key, SAMPLE_CREDENTIALS.godaddy.secret),
            ),
          },
    digitalocean:
      doc.token !== undefined
        ? { mode: 'live', client: live(digitalOceanPolicy, DIGITALOCEAN_LIMIT, doc.baseUrl, doAuth(doc.token)) }
        : {
            mode: 'sample',
            client: sample(
              digitalOceanPolicy,
              digitalOceanEmulator(business(), SAMPLE_CREDENTIALS.digitalocean, SAMPLE_EMULATION),
              doAuth(SAMPLE_CREDENTIALS.digitalocean.token),
            ),
          },
  };
}
