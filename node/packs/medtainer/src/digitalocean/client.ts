import { type ApiClient, parseAnswer, unreadable } from '@brainmesh/node/kit';
import { z } from 'zod';
import {
  type Account,
  type App,
  account,
  app,
  type Balance,
  balance,
  type Droplet,
  type DropletAction,
  droplet,
  dropletAction,
} from './wire.js';

/**
 * DigitalOcean API v2 (docs/research/digitalocean.md): droplets and their power actions, the
 * account and its balance, and App Platform apps. Bodies are checked against the documented
 * shapes; collections are read to the end by following `links.pages.next`.
 */

const SERVICE = 'DigitalOcean';

/** DigitalOcean's largest page. */
const PER_PAGE = 200;

export const POWER_ACTIONS = ['reboot', 'power_cycle', 'shutdown', 'power_off', 'power_on'] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];

/** The balance as sent (decimal strings, to the cent) and as numbers to compute with. */
export type BalanceView = Balance & {
  amounts: { month_to_date_balance: number; account_balance: number; month_to_date_usage: number };
};

const links = z.looseObject({ pages: z.looseObject({ next: z.string().optional() }).optional() }).optional();

export class DigitalOceanApi {
  constructor(private readonly client: ApiClient) {}

  async listDroplets(options: { tag?: string } = {}, signal?: AbortSignal): Promise<Droplet[]> {
    return this.all('/v2/droplets', 'droplets', droplet, { tag_name: options.tag }, signal);
  }

  async getDroplet(id: number, signal?: AbortSignal): Promise<Droplet> {
    const body = await this.get(`/v2/droplets/${id}`, undefined, signal);
    return parseAnswer(SERVICE, z.looseObject({ droplet }), body).droplet;
  }

  /** A second send would act twice (two reboots), so it is sent once whatever happens. */
  async dropletAction(id: number, type: PowerAction, signal?: AbortSignal): Promise<DropletAction> {
    const res = await this.client.request({
      method: 'POST',
      path: `/v2/droplets/${id}/actions`,
      body: { type },
      idempotent: false,
      signal,
    });
    return parseAnswer(SERVICE, z.looseObject({ action: dropletAction }), res.body).action;
  }

  async getAction(id: number, signal?: AbortSignal): Promise<DropletAction> {
    const body = await this.get(`/v2/actions/${id}`, undefined, signal);
    return parseAnswer(SERVICE, z.looseObject({ action: dropletAction }), body).action;
  }

  async account(signal?: AbortSignal): Promise<Account> {
    return parseAnswer(SERVICE, z.looseObject({ account }), await this.get('/v2/account', undefined, signal)).account;
  }

  /** Not wrapped in a key, unlike everything else. */
  async balance(signal?: AbortSignal): Promise<BalanceView> {
    const sent = parseAnswer(SERVICE, balance, await this.get('/v2/customers/my/balance', undefined, signal));
    return {
      ...sent,
      amounts: {
        month_to_date_balance: amount(sent.month_to_date_balance),
        account_balance: amount(sent.account_balance),
        month_to_date_usage: amount(sent.month_to_date_usage),
      },
    };
  }

  async listApps(signal?: AbortSignal): Promise<App[]> {
    return this.all('/v2/apps', 'apps', app, {}, signal);
  }

  /**
   * Every page of a collection. Only `page` is read from the next link: whether it echoes the
   * other parameters is undocumented, so they are sent again as given.
   */
  private async all<S extends z.ZodType<{ id: number | string }>>(
    path: string,
    key: string,
    item: S,
    query: Record<string, string | undefined>,
    signal: AbortSignal | undefined,
  ): Promise<z.output<S>[]> {
    const envelope = z.looseObject({ [key]: z.array(item), links });
    const byId = new Map<number | string, z.output<S>>();
    let page = 1;
    for (;;) {
      const body = parseAnswer(SERVICE, envelope, await this.get(path, { ...query, page, per_page: PER_PAGE }, signal));
      // Items that move between pages while they are read would otherwise appear twice.
      for (const it of body[key] as z.output<S>[]) byId.set(it.id, it);
      const next = (body.links as z.output<typeof links>)?.pages?.next;
      if (next === undefined) break;
      const nextPage = pageOf(next);
      if (nextPage === undefined || nextPage <= page)
        throw unreadable(SERVICE, 'a next-page link brainmesh cannot follow');
      page = nextPage;
    }
    return [...byId.values()];
  }

  private async get(
    path: string,
    query: Record<string, string | number | undefined> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const res = await this.client.request({
      method: 'GET',
      path,
      ...(query === undefined ? {} : { query }),
      idempotent: true,
      signal,
    });
    return res.body;
  }
}

function pageOf(link: string): number | undefined {
  try {
    const page = Number(new URL(link).searchParams.get('page'));
    return Number.isInteger(page) && page >= 1 ? page : undefined;
  } catch {
    return undefined;
  }
}

function amount(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw unreadable(SERVICE, `a balance of ${JSON.stringify(text)}`);
  return value;
}
