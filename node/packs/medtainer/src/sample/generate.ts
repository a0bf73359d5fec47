import type { DnsRecord, DomainDetail } from '../godaddy/wire.js';
import type {
  GhlContact,
  GhlConversation,
  GhlEvent,
  GhlMessage,
  GhlOpportunity,
  GhlPipeline,
} from '../gohighlevel/wire.js';
import { emptyBusiness, type SampleBusiness } from './business.js';
import { Random } from './random.js';

/**
 * The sample business: MedTainer, a small medical-container supplier, over the 90 days before
 * `now`. Generated from a seed, so it is the same business on every machine. Its shape is
 * realistic rather than uniform: sources convert at different rates, leads drop off at one stage
 * more than the others, and customers write in at some hours and days more than at others, so
 * the intelligence layer has something true to find.
 */

export const SAMPLE_SEED = 20_261_125;
const DAY = 86_400_000;

const FIRST = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'David',
  'Elizabeth',
  'William',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Carlos',
  'Karen',
  'Daniel',
  'Lisa',
  'Matthew',
  'Nancy',
  'Anthony',
  'Sandra',
  'Mark',
  'Ashley',
  'Priya',
  'Emily',
  'Wei',
  'Fatima',
  'Diego',
  'Aisha',
];
const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Clark',
  'Lewis',
  'Patel',
  'Nguyen',
  'Kim',
  'Okafor',
  'Rossi',
];
const COMPANIES = [
  'Sunrise Dental',
  'Lakeside Clinic',
  'Northside Pharmacy',
  'Evergreen Vet',
  'Harbor Urgent Care',
  'Pine Street Labs',
  'Bright Smiles Ortho',
  'Valley Wellness',
  'Metro Physio',
  'Cedar Family Practice',
  '',
];

/** Source, share of leads, chance an opportunity from it is won. */
const SOURCES: readonly (readonly [string, number, number])[] = [
  ['Google Ads', 30, 0.1],
  ['Facebook Ads', 24, 0.06],
  ['Website', 20, 0.14],
  ['Referral', 12, 0.34],
  ['Instagram', 9, 0.07],
  ['Trade Show', 5, 0.2],
];

const SALES_STAGES = ['New Lead', 'Contacted', 'Consultation Booked', 'Proposal Sent', 'Negotiation', 'Closed'];
/** Where a lost lead was when it was lost: most go quiet after the proposal. */
const LOSS_WEIGHTS = [12, 18, 14, 38, 18];
const WHOLESALE_STAGES = ['Inquiry', 'Samples Sent', 'Quote', 'Order Placed'];

/** Weekday weights (Sunday first) and hour-of-day weights (UTC) for when people get in touch. */
const WEEKDAY_WEIGHTS = [2, 9, 14, 11, 10, 8, 3];
const HOUR_WEIGHTS = [0, 0, 0, 0, 0, 0, 1, 2, 5, 9, 14, 15, 8, 6, 9, 10, 8, 6, 4, 3, 2, 1, 1, 0];

export function generateBusiness(options: { seed: number; now: Date }): SampleBusiness {
  const rng = new Random(options.seed);
  const now = options.now.getTime();
  const business = emptyBusiness(options.now);
  const ghl = business.gohighlevel;
  const locationId = ghl.locationId;
  ghl.users = [
    { id: 'user00000000000alex', name: 'Alex Rivera' },
    { id: 'user000000000000sam', name: 'Sam Chen' },
    { id: 'user0000000000jordan', name: 'Jordan Lee' },
  ];
  ghl.calendars = [
    { id: 'cal000000consultation', name: 'Consultations' },
    { id: 'cal0000000000followup', name: 'Follow-ups' },
  ];
  const sales: GhlPipeline = {
    id: 'pipe00000000000sales',
    name: 'Sales Pipeline',
    locationId,
    stages: SALES_STAGES.map((name, position) => ({ id: `stage-sales-${position + 1}`, name, position })),
  };
  const wholesale: GhlPipeline = {
    id: 'pipe0000000wholesale',
    name: 'Wholesale',
    locationId,
    stages: WHOLESALE_STAGES.map((name, position) => ({ id: `stage-wholesale-${position + 1}`, name, position })),
  };
  ghl.pipelines = [sales, wholesale];

  /** A moment in the last `days` days, at a weekday and hour people really get in touch. */
  const touchTime = (fromMs: number, toMs: number): number => {
    // A window too short to hold a likely hour takes any moment in it.
    for (let tries = 0; tries < 200; tries++) {
      const day = fromMs + Math.floor(rng.next() * Math.max(1, (toMs - fromMs) / DAY)) * DAY;
      const date = new Date(day);
      date.setUTCHours(rng.weighted(HOUR_WEIGHTS.map((w, h) => [h, w] as const)), rng.int(0, 59), rng.int(0, 59), 0);
      if (!rng.chance((WEEKDAY_WEIGHTS[date.getUTCDay()] ?? 0) / 14)) continue;
      const at = date.getTime();
      if (at >= fromMs && at < toMs) return at;
    }
    return fromMs + Math.floor(rng.next() * (toMs - fromMs));
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  const CONTACTS = 1_200;
  for (let i = 0; i < CONTACTS; i++) {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const source = rng.weighted(SOURCES.map(([s, w]) => [s, w] as const));
    const added = touchTime(now - 90 * DAY, now);
    const company = rng.pick(COMPANIES);
    const tags = new Set<string>(['lead']);
    if (rng.chance(0.3)) tags.add('newsletter');
    if (company !== '') tags.add('clinic');
    const contact: GhlContact = {
      id: `contact${String(i + 1).padStart(13, '0')}`,
      locationId,
      firstName: first,
      lastName: last,
      name: `${first} ${last}`,
      email: `${first}.${last}${i + 1}@example.com`.toLowerCase(),
      phone: `+1555${String(1_000_000 + i * 7).slice(-7)}`,
      companyName: company === '' ? null : company,
      source,
      type: 'lead',
      tags: [...tags],
      dnd: rng.chance(0.03),
      assignedTo: rng.pick(ghl.users).id,
      dateAdded: iso(added),
      dateUpdated: iso(added),
    };
    ghl.contacts.push(contact);

    // Most leads get an opportunity; how far it went depends on where the lead came from.
    if (rng.chance(0.62)) {
      const winRate = SOURCES.find(([s]) => s === source)?.[2] ?? 0.1;
      const wholesaleDeal = company !== '' && rng.chance(0.25);
      const pipeline = wholesaleDeal ? wholesale : sales;
      const created = added + rng.int(0, 3) * DAY + rng.int(0, 3_600_000);
      const age = now - created;
      let status: GhlOpportunity['status'];
      let stageIndex: number;
      if (rng.chance(winRate)) {
        status = 'won';
        stageIndex = pipeline.stages.length - 1;
      } else if (age > 21 * DAY && rng.chance(0.6)) {
        status = rng.chance(0.8) ? 'lost' : 'abandoned';
        stageIndex = pipeline === sales ? rng.weighted(LOSS_WEIGHTS.map((w, s) => [s, w] as const)) : rng.int(0, 2);
      } else {
        status = 'open';
        stageIndex = rng.int(0, pipeline.stages.length - 2);
      }
      const stage = pipeline.stages[stageIndex];
      if (stage === undefined) throw new Error('stage out of range');
      const value = wholesaleDeal ? rng.int(20, 120) * 100 : rng.int(4, 60) * 50;
      const changed = Math.min(now - 3_600_000, created + rng.int(1, 40) * DAY);
      if (status === 'won') {
        contact.type = 'customer';
        contact.tags.push('customer');
      }
      ghl.opportunities.push({
        id: `opp${String(ghl.opportunities.length + 1).padStart(17, '0')}`,
        name: `${contact.name} – ${pipeline === sales ? 'Container order' : 'Wholesale supply'}`,
        monetaryValue: value,
        pipelineId: pipeline.id,
        pipelineStageId: stage.id,
        assignedTo: contact.assignedTo ?? null,
        status,
        source,
        contactId: contact.id,
        locationId,
        createdAt: iso(created),
        updatedAt: iso(changed),
        lastStatusChangeAt: iso(status === 'open' ? created : changed),
        lastStageChangeAt: iso(changed),
      });
    }

    // About two in five have written to or been written to by the business.
    if (rng.chance(0.42)) {
      const conversationId = `conv${String(ghl.conversations.length + 1).padStart(16, '0')}`;
      const messages: GhlMessage[] = [];
      const count = rng.int(1, 7);
      let at = Math.max(added, now - 60 * DAY);
      for (let m = 0; m < count && at < now; m++) {
        at = touchTime(at, Math.min(now, at + 10 * DAY));
        const inbound = m === 0 ? rng.chance(0.7) : rng.chance(0.5);
        const sms = rng.chance(0.75);
        messages.push({
          id: `${conversationId}m${m + 1}`,
          type: sms ? 2 : 3,
          messageType: sms ? 'TYPE_SMS' : 'TYPE_EMAIL',
          locationId,
          contactId: contact.id,
          conversationId,
          dateAdded: iso(at),
          body: inbound ? rng.pick(INBOUND_TEXT) : rng.pick(OUTBOUND_TEXT),
          direction: inbound ? 'inbound' : 'outbound',
          status: inbound ? 'delivered' : rng.pick(['delivered', 'read', 'sent']),
          contentType: 'text/plain',
        });
        at += 60_000;
      }
      const lastMessage = messages[messages.length - 1];
      if (lastMessage !== undefined) {
        ghl.messages.set(conversationId, messages);
        const conversation: GhlConversation = {
          id: conversationId,
          contactId: contact.id,
          locationId,
          lastMessageBody: lastMessage.body ?? null,
          lastMessageType: lastMessage.messageType ?? null,
          lastMessageDate: Date.parse(lastMessage.dateAdded),
          lastMessageDirection: lastMessage.direction,
          type: lastMessage.messageType === 'TYPE_EMAIL' ? 'TYPE_EMAIL' : 'TYPE_PHONE',
          unreadCount: lastMessage.direction === 'inbound' && rng.chance(0.5) ? rng.int(1, 3) : 0,
          fullName: contact.name ?? null,
          email: contact.email ?? null,
          phone: contact.phone ?? null,
        };
        ghl.conversations.push(conversation);
      }
    }
  }

  // Appointments over the last 90 days and the next 30, booked for leads that got that far.
  const consultationOnwards = new Set(sales.stages.slice(2).map((s) => s.id));
  const booked = ghl.opportunities.filter((o) => consultationOnwards.has(o.pipelineStageId) || o.status === 'won');
  for (const opportunity of booked) {
    if (!rng.chance(0.55)) continue;
    const start = rng.chance(0.15)
      ? now + rng.int(1, 30) * DAY
      : Math.min(now - DAY, Date.parse(opportunity.createdAt) + rng.int(2, 20) * DAY);
    const startDate = new Date(start);
    startDate.setUTCHours(rng.int(9, 16), rng.pick([0, 30]), 0, 0);
    const calendar = rng.chance(0.7) ? ghl.calendars[0] : ghl.calendars[1];
    if (calendar === undefined) continue;
    const event: GhlEvent = {
      id: `event${String(ghl.events.length + 1).padStart(15, '0')}`,
      title: `${calendar.name.slice(0, -1)} with ${ghl.contacts.find((c) => c.id === opportunity.contactId)?.name ?? 'a lead'}`,
      calendarId: calendar.id,
      locationId,
      contactId: opportunity.contactId,
      appointmentStatus:
        startDate.getTime() > now ? 'confirmed' : rng.pick(['showed', 'showed', 'showed', 'noshow', 'cancelled']),
      assignedUserId: opportunity.assignedTo ?? null,
      startTime: startDate.toISOString(),
      endTime: new Date(startDate.getTime() + 30 * 60_000).toISOString(),
    };
    ghl.events.push(event);
  }

  generateDomains(business, rng, now);
  generateServers(business, rng, now);
  return business;
}

const INBOUND_TEXT = [
  'Hi, do you have the 5 gallon sharps containers in stock?',
  'Can I get a quote for 200 units?',
  'What are your delivery times to our clinic?',
  'Following up on the proposal you sent.',
  'Is there a discount for monthly orders?',
  'Can we reschedule our consultation?',
  'Thanks, received the samples.',
];
const OUTBOUND_TEXT = [
  'Thanks for reaching out! Here is our current price list.',
  'Your consultation is booked. See you then!',
  'Just checking in on the proposal we sent last week.',
  'Your order has shipped.',
  'Happy to help. What volumes are you looking at?',
];

const DOMAINS = [
  'medtainer.com',
  'medtainer.net',
  'medtainer.org',
  'medtainerrx.com',
  'sharpsbox.com',
  'sharps-disposal.shop',
  'medtainer.co',
  'clinic-containers.com',
  'medtainer.store',
  'getmedtainer.com',
  'medtainer-wholesale.com',
  'safesharps.org',
];

function generateDomains(business: SampleBusiness, rng: Random, now: number): void {
  const contact = {
    nameFirst: 'Alex',
    nameLast: 'Rivera',
    email: 'alex@medtainer.com',
    phone: '+1.5555550100',
    organization: 'MedTainer LLC',
    addressMailing: { address1: '100 Harbor Way', city: 'Tempe', state: 'AZ', postalCode: '85281', country: 'US' },
  };
  DOMAINS.forEach((name, i) => {
    const created = now - rng.int(200, 3_000) * DAY;
    // Two expire within the month, one of them with auto-renew off: something to act on.
    const expires = i === 3 ? now + 12 * DAY : i === 7 ? now + 25 * DAY : now + rng.int(60, 700) * DAY;
    const domain: DomainDetail = {
      domainId: 1_002_000 + i,
      domain: name,
      status: 'ACTIVE',
      createdAt: new Date(created).toISOString(),
      expires: new Date(expires).toISOString(),
      renewAuto: i !== 3,
      renewDeadline: new Date(expires + 45 * DAY).toISOString(),
      locked: i !== 9,
      privacy: true,
      expirationProtected: false,
      holdRegistrar: false,
      transferProtected: false,
      nameServers: ['ns41.domaincontrol.com', 'ns42.domaincontrol.com'],
      authCode: `SAMPLE-AUTH-${i}`,
      contactRegistrant: contact,
      contactAdmin: contact,
      contactBilling: contact,
      contactTech: contact,
    };
    business.godaddy.domains.push(domain);
    const records: DnsRecord[] = [
      { type: 'A', name: '@', data: `203.0.113.${10 + (i % 3)}`, ttl: 600 },
      { type: 'CNAME', name: 'www', data: '@', ttl: 3600 },
      { type: 'NS', name: '@', data: 'ns41.domaincontrol.com', ttl: 3600 },
      { type: 'NS', name: '@', data: 'ns42.domaincontrol.com', ttl: 3600 },
      { type: 'TXT', name: '@', data: 'v=spf1 include:_spf.google.com ~all', ttl: 3600 },
    ];
    if (i < 3) {
      records.push({ type: 'MX', name: '@', data: 'aspmx.l.google.com', ttl: 3600, priority: 1 });
      records.push({ type: 'MX', name: '@', data: 'alt1.aspmx.l.google.com', ttl: 3600, priority: 5 });
    }
    business.godaddy.records.set(name, records);
  });
}

function generateServers(business: SampleBusiness, rng: Random, now: number): void {
  const region = { name: 'New York 3', slug: 'nyc3', available: true, features: ['backups', 'ipv6'], sizes: [] };
  const image = { id: 129_211_873, name: '22.04 (LTS) x64', distribution: 'Ubuntu', slug: 'ubuntu-22-04-x64' };
  const servers = [
    { name: 'web-1', size: 's-2vcpu-4gb', memory: 4096, vcpus: 2, disk: 80, status: 'active', tags: ['web', 'prod'] },
    { name: 'web-2', size: 's-2vcpu-4gb', memory: 4096, vcpus: 2, disk: 80, status: 'active', tags: ['web', 'prod'] },
    { name: 'db-1', size: 's-4vcpu-8gb', memory: 8192, vcpus: 4, disk: 160, status: 'active', tags: ['db', 'prod'] },
    { name: 'staging', size: 's-1vcpu-2gb', memory: 2048, vcpus: 1, disk: 50, status: 'off', tags: ['staging'] },
  ] as const;
  servers.forEach((s, i) => {
    business.digitalocean.droplets.push({
      id: 3_164_440 + i,
      name: s.name,
      memory: s.memory,
      vcpus: s.vcpus,
      disk: s.disk,
      locked: false,
      status: s.status,
      kernel: null,
      created_at: new Date(now - rng.int(30, 600) * DAY).toISOString(),
      features: ['backups', 'ipv6'],
      size_slug: s.size,
      region,
      image,
      networks: {
        v4: [{ ip_address: `203.0.113.${10 + i}`, netmask: '255.255.255.0', gateway: '203.0.113.1', type: 'public' }],
        v6: [],
      },
      tags: [...s.tags],
      vpc_uuid: '760e09ef-dc84-11e8-981e-3cfdfeaae000',
    });
  });
  business.digitalocean.apps.push(
    {
      id: '4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf',
      spec: { name: 'storefront' },
      default_ingress: 'https://storefront-x7k2q.ondigitalocean.app',
      live_url: 'https://shop.medtainer.com',
      created_at: new Date(now - 120 * DAY).toISOString(),
      updated_at: new Date(now - 2 * DAY).toISOString(),
      active_deployment: { id: '3aa4d20e-5527-4c00-b496-601fbd22520a', phase: 'ACTIVE' },
      region: { slug: 'nyc' },
      tier_slug: 'basic',
    },
    {
      id: '9b2d3c41-7a55-4d0e-8f11-2c6b1e0d9a77',
      spec: { name: 'order-webhooks' },
      default_ingress: 'https://order-webhooks-p3m9d.ondigitalocean.app',
      created_at: new Date(now - 45 * DAY).toISOString(),
      updated_at: new Date(now - 9 * DAY).toISOString(),
      active_deployment: { id: 'c1f5e0aa-1b2c-4d3e-9f80-7a6b5c4d3e2f', phase: 'ACTIVE' },
      region: { slug: 'nyc' },
      tier_slug: 'basic',
    },
  );
  business.digitalocean.account = {
    droplet_limit: 25,
    email: 'alex@medtainer.com',
    name: 'Alex Rivera',
    uuid: 'b6fr89dbf6d9156cace5f3c78dc9851d957381ef',
    email_verified: true,
    status: 'active',
    status_message: '',
  };
  business.digitalocean.balance = {
    month_to_date_balance: '184.20',
    account_balance: '0.00',
    month_to_date_usage: '184.20',
    generated_at: new Date(now).toISOString(),
  };
}
