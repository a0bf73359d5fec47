import type { Account, App, Balance, Droplet } from '../digitalocean/wire.js';
import type { DnsRecord, DomainDetail } from '../godaddy/wire.js';
import type {
  GhlContact,
  GhlConversation,
  GhlEvent,
  GhlMessage,
  GhlNote,
  GhlOpportunity,
  GhlPipeline,
  GhlTask,
} from '../gohighlevel/wire.js';

/**
 * The sample business: what MedTainer shows when a service has no credentials, and what the
 * emulated APIs serve. Held in each service's own wire shapes, so the emulators hand it out as
 * the services would. Mutable: sample-mode writes change it, as they would change the service.
 */
export interface SampleBusiness {
  /** The moment the data was generated around ("the last 90 days" end here). */
  now: Date;
  gohighlevel: {
    locationId: string;
    users: { id: string; name: string }[];
    calendars: { id: string; name: string }[];
    contacts: GhlContact[];
    pipelines: GhlPipeline[];
    opportunities: GhlOpportunity[];
    conversations: GhlConversation[];
    /** By conversation id, oldest first. */
    messages: Map<string, GhlMessage[]>;
    events: GhlEvent[];
    notes: GhlNote[];
    tasks: GhlTask[];
  };
  godaddy: {
    domains: DomainDetail[];
    /** By domain name. */
    records: Map<string, DnsRecord[]>;
  };
  digitalocean: {
    droplets: Droplet[];
    apps: App[];
    account: Account;
    balance: Balance;
  };
}

/** The sub-account the sample business is: what sample mode's credentials name. */
export const SAMPLE_LOCATION_ID = 'sampleLocation0001';

/** A business with nothing in it, for tests that set up exactly what they need. */
export function emptyBusiness(now: Date): SampleBusiness {
  return {
    now,
    gohighlevel: {
      locationId: SAMPLE_LOCATION_ID,
      users: [],
      calendars: [],
      contacts: [],
      pipelines: [],
      opportunities: [],
      conversations: [],
      messages: new Map(),
      events: [],
      notes: [],
      tasks: [],
    },
    godaddy: { domains: [], records: new Map() },
    digitalocean: {
      droplets: [],
      apps: [],
      account: { email: 'owner@example.com', uuid: 'sample-account', status: 'active', droplet_limit: 25 },
      balance: {
        month_to_date_balance: '0.00',
        account_balance: '0.00',
        month_to_date_usage: '0.00',
        generated_at: now.toISOString(),
      },
    },
  };
}
