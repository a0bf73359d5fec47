import { type EmulatedRequest, type EmulatedResponse, Emulator, type EmulatorOptions } from '@brainmesh/node/kit';
import type { Droplet, DropletAction } from '../digitalocean/wire.js';
import type { SampleBusiness } from './business.js';

/**
 * DigitalOcean's API v2 over the sample business, as docs/research/digitalocean.md describes it:
 * bearer auth, bodies wrapped in a key, page/per_page paging with full-URL links, the RateLimit-*
 * headers on every answer (5,000 an hour, each request on its own timer) and 250 a minute (a 429
 * past either, unless `rateLimits` is false: the headers are sent all the same), and droplet power
 * actions that finish when they are next looked at.
 */

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const PER_HOUR = 5000;
const PER_MINUTE = 250;
const MAX_PER_PAGE = 200;
const DEFAULT_PER_PAGE = 20;

/** The documented power actions and the state each leaves the droplet in. */
const POWER: Record<string, Droplet['status']> = {
  reboot: 'active',
  power_cycle: 'active',
  power_on: 'active',
  shutdown: 'off',
  power_off: 'off',
};

const fail = (status: number, id: string, message: string, headers?: Record<string, string>): EmulatedResponse => ({
  status,
  body: { id, message },
  ...(headers === undefined ? {} : { headers }),
});

const notFound = () => fail(404, 'not_found', 'The resource you were accessing could not be found.');
const unauthorized = () => fail(401, 'unauthorized', 'Unable to authenticate you');

export function digitalOceanEmulator(
  business: SampleBusiness,
  credentials: { token: string },
  options: EmulatorOptions = {},
): Emulator {
  const now = options.now ?? Date.now;
  const limited = options.rateLimits !== false;
  const data = business.digitalocean;
  const expectedAuth = `Bearer ${credentials.token}`;
  // Times of the requests counted against the token, oldest first.
  let counted: number[] = [];
  const actions = new Map<number, DropletAction>();
  let nextActionId = 900_000_001;

  const expire = (at: number) => {
    counted = counted.filter((t) => t > at - HOUR_MS);
  };

  const emulator = new Emulator({
    before(req) {
      if (req.headers.get('authorization') !== expectedAuth) return unauthorized();
      const at = now();
      expire(at);
      const lastMinute = counted.filter((t) => t > at - MINUTE_MS);
      if (limited && (counted.length >= PER_HOUR || lastMinute.length >= PER_MINUTE)) {
        // The minute window frees up first unless the hour is spent too.
        const freeAt = counted.length >= PER_HOUR ? (counted[0] ?? at) + HOUR_MS : (lastMinute[0] ?? at) + MINUTE_MS;
        return fail(429, 'too_many_requests', 'API Rate limit exceeded.', {
          'retry-after': String(Math.max(1, Math.ceil((freeAt - at) / 1000))),
        });
      }
      counted.push(at);
      return undefined;
    },
    headers(req) {
      if (req.headers.get('authorization') !== expectedAuth) return {};
      const at = now();
      expire(at);
      const oldest = counted[0] ?? at;
      return {
        'ratelimit-limit': String(PER_HOUR),
        'ratelimit-remaining': String(Math.max(0, PER_HOUR - counted.length)),
        'ratelimit-reset': String(Math.ceil((oldest + HOUR_MS) / 1000)),
      };
    },
    notFound(req) {
      return req.headers.get('authorization') === expectedAuth ? notFound() : unauthorized();
    },
  });

  const findDroplet = (req: EmulatedRequest): Droplet | undefined => {
    const id = Number(req.params.id);
    return Number.isInteger(id) ? data.droplets.find((d) => d.id === id) : undefined;
  };

  /** An action is done the first time it is looked at after it started. */
  const look = (action: DropletAction): DropletAction => {
    if (action.status === 'in-progress') {
      action.status = 'completed';
      action.completed_at = new Date(now()).toISOString();
      const droplet = data.droplets.find((d) => d.id === action.resource_id);
      if (droplet !== undefined) {
        droplet.status = POWER[action.type] ?? droplet.status;
        droplet.locked = false;
      }
    }
    return structuredClone(action);
  };

  emulator
    .route('GET', '/v2/droplets', (req) => {
      const tag = req.query.get('tag_name');
      const name = req.query.get('name')?.toLowerCase();
      const droplets = data.droplets.filter(
        (d) => (tag === null || d.tags.includes(tag)) && (name === undefined || d.name.toLowerCase() === name),
      );
      return page(req, 'droplets', droplets);
    })
    .route('GET', '/v2/droplets/:id', (req) => {
      const droplet = findDroplet(req);
      return droplet === undefined ? notFound() : { status: 200, body: { droplet: structuredClone(droplet) } };
    })
    .route('POST', '/v2/droplets/:id/actions', (req) => {
      const droplet = findDroplet(req);
      if (droplet === undefined) return notFound();
      const type = (req.body as { type?: unknown } | undefined)?.type;
      if (typeof type !== 'string' || POWER[type] === undefined)
        return fail(422, 'unprocessable_entity', `${String(type)} is not a supported action type.`);
      if (droplet.locked) return fail(422, 'unprocessable_entity', 'Droplet already has a pending event.');
      droplet.locked = true;
      const action: DropletAction = {
        id: nextActionId++,
        status: 'in-progress',
        type,
        started_at: new Date(now()).toISOString(),
        completed_at: null,
        resource_id: droplet.id,
        resource_type: 'droplet',
        region: structuredClone(droplet.region),
        region_slug: droplet.region.slug,
      };
      actions.set(action.id, action);
      return { status: 201, body: { action: structuredClone(action) } };
    })
    .route('GET', '/v2/droplets/:id/actions/:actionId', (req) => {
      const action = actions.get(Number(req.params.actionId));
      if (action === undefined || action.resource_id !== Number(req.params.id)) return notFound();
      return { status: 200, body: { action: look(action) } };
    })
    .route('GET', '/v2/actions/:id', (req) => {
      const action = actions.get(Number(req.params.id));
      return action === undefined ? notFound() : { status: 200, body: { action: look(action) } };
    })
    .route('GET', '/v2/account', () => ({ status: 200, body: { account: structuredClone(data.account) } }))
    .route('GET', '/v2/customers/my/balance', () => ({ status: 200, body: structuredClone(data.balance) }))
    .route('GET', '/v2/apps', (req) => page(req, 'apps', data.apps));

  return emulator;
}

/** One page of a collection, with the links that make sense for it as full URLs on the request's host. */
function page<T>(req: EmulatedRequest, key: string, items: readonly T[]): EmulatedResponse {
  const perPageAsked = Number(req.query.get('per_page') ?? DEFAULT_PER_PAGE);
  const perPage =
    Number.isInteger(perPageAsked) && perPageAsked >= 1 ? Math.min(perPageAsked, MAX_PER_PAGE) : DEFAULT_PER_PAGE;
  const pageAsked = Number(req.query.get('page') ?? 1);
  const current = Number.isInteger(pageAsked) && pageAsked >= 1 ? pageAsked : 1;
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number) => {
    const query = new URLSearchParams(req.query);
    query.set('page', String(n));
    query.set('per_page', String(perPage));
    return `http://${req.headers.get('host') ?? 'api.digitalocean.com'}${req.path}?${query}`;
  };
  const pages: Record<string, string> = {};
  if (current > 1) {
    pages.first = link(1);
    pages.prev = link(Math.min(current - 1, last));
  }
  if (current < last) {
    pages.next = link(current + 1);
    pages.last = link(last);
  }
  return {
    status: 200,
    body: {
      [key]: structuredClone(items.slice((current - 1) * perPage, current * perPage)),
      links: { pages },
      meta: { total: items.length },
    },
  };
}
