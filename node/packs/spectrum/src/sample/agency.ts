/**
 * The sample agency Spectrum runs on when `seed: sample` (as `npm start` does): a small web and
 * growth agency for clinics and local businesses. Its documents are written so the knowledge
 * search has known answers (test/knowledge.test.ts asks the questions).
 */

export const SAMPLE_PRINCIPAL = 'sample';

export const SAMPLE_DOCUMENTS: { slug: string; title: string; tags: string[]; body: string }[] = [
  {
    slug: 'services-and-pricing',
    title: 'Services and pricing',
    tags: ['sales', 'pricing'],
    body: `# Services and pricing

## Websites
A marketing website costs $8,000 to $25,000 depending on the number of page templates, integrations
(booking, payments, CRM) and content we write. A landing page alone is $2,500.

## Growth retainer
A monthly retainer of $2,500 covers SEO, paid search management, two articles and a monthly report.
Ad spend is billed at cost.

## Audits
An SEO and conversion audit is a fixed $1,500 and is credited against a website project signed within
60 days.`,
  },
  {
    slug: 'client-onboarding-playbook',
    title: 'Client onboarding playbook',
    tags: ['operations', 'onboarding'],
    body: `# Client onboarding playbook

## First 48 hours
Hold the kickoff call within 48 hours of the signature. Agree on goals, one decision maker and the
weekly status slot.

## Access checklist
Collect access to the domain registrar, DNS, hosting, analytics, the CRM and ad accounts. Store every
credential in the vault, never in email.

## Shared channel
Open a shared channel with the client and post the project plan there on day two.`,
  },
  {
    slug: 'objection-price',
    title: 'Objection: too expensive',
    tags: ['objection', 'sales'],
    body: `When a prospect says we are too expensive or over budget, do not discount first.
Show the return: one extra patient a week pays for the growth retainer within a month.
Offer a phased project (landing page first, full site later) or payment in three instalments.
Only then, if needed, trim scope rather than price.`,
  },
  {
    slug: 'objection-timing',
    title: 'Objection: not the right time',
    tags: ['objection', 'sales'],
    body: `"Not now, maybe next quarter." Ask what changes next quarter. Offer the $1,500 audit now, credited
later, so the decision is small and the work starts. Put a follow-up sequence in place: three touches,
a week apart.`,
  },
  {
    slug: 'objection-trust',
    title: 'Objection: burned by a previous agency',
    tags: ['objection', 'sales'],
    body: `Prospects who had a bad experience with an agency before want proof and a way out.
Share two references they can call and the Acme Dental case study. Offer a 30-day exit clause and
weekly status reports so nothing is hidden.`,
  },
  {
    slug: 'case-study-acme-dental',
    title: 'Case study: Acme Dental',
    tags: ['case-study', 'dental'],
    body: `Acme Dental, a three-chair practice, came to us with an old site and no online booking.
We rebuilt the site, added online booking and ran local search ads. Bookings rose 40% in four months
and the cost per new patient fell from $180 to $95.`,
  },
  {
    slug: 'case-study-northwind',
    title: 'Case study: Northwind Logistics',
    tags: ['case-study', 'logistics'],
    body: `Northwind Logistics needed leads from mid-size shippers. An SEO programme of 24 articles and a
quote calculator doubled organic traffic in six months and brought 35 qualified quote requests a month.`,
  },
  {
    slug: 'runbook-site-down',
    title: 'Runbook: client website is down',
    tags: ['runbook', 'operations'],
    body: `# Runbook: client website is down

1. Check the uptime monitor and open the site from two networks.
2. Check DNS: does the domain still point at the droplet's address? Registrar changes are the usual cause.
3. Check the hosting droplet: CPU, disk, and whether the web server runs. Restart the web server, then the droplet.
4. Post in the client's channel within 15 minutes, and every 30 minutes until it is back.
5. Log the incident and write what caused it.`,
  },
  {
    slug: 'runbook-tls-certificate',
    title: 'Runbook: TLS certificate expired',
    tags: ['runbook', 'operations'],
    body: `Browsers warn that the connection is not private. Renew the certificate with the ACME client on the
droplet (certbot renew), reload the web server, and check the renewal timer is enabled so it does not
happen again.`,
  },
  {
    slug: 'runbook-deploy-rollback',
    title: 'Runbook: roll back a bad deploy',
    tags: ['runbook', 'engineering'],
    body: `If a release breaks a client site, roll back first and investigate after. Redeploy the previous
tagged release from the pipeline, purge the CDN cache, and confirm the booking form works end to end.`,
  },
  {
    slug: 'brand-voice',
    title: 'Brand voice and writing guide',
    tags: ['writing', 'marketing'],
    body: `Our tone of voice is plain, warm and specific. Blog posts and emails use short sentences, no jargon,
and one clear call to action. Write for a busy clinic owner reading on a phone.`,
  },
  {
    slug: 'qa-standards',
    title: 'QA standards for deliverables',
    tags: ['quality', 'engineering'],
    body: `Every website deliverable passes QA before it is called done: accessibility to WCAG 2.2 AA,
a Lighthouse performance score of 90 or more on mobile, forms tested end to end, and a check in the
latest Chrome, Safari and Firefox.`,
  },
  {
    slug: 'support-sla-policy',
    title: 'Support SLA policy',
    tags: ['operations', 'sla'],
    body: `Severity 1 (a client site or booking is down): first response within 1 hour, around the clock.
Severity 2 (a feature is broken): response within 1 business day. Severity 3 (questions, small
changes): within 3 business days.`,
  },
  {
    slug: 'strategy-2027',
    title: 'Strategy 2027: clinics first',
    tags: ['strategy'],
    body: `Next year we focus on dental, physiotherapy and veterinary clinics: they need bookings, trust
local search, and buy retainers. We aim for twelve new retainer clients and a productised booking-site
package.`,
  },
];

export const SAMPLE_TASKS: {
  key: string;
  title: string;
  role: 'strategist' | 'builder' | 'closer' | 'operator';
  brief: string;
  priority: number;
  after?: string[];
  dueInDays?: number;
}[] = [
  {
    key: 'package',
    title: 'Define the clinic booking-site package',
    role: 'strategist',
    brief: 'Scope, price and timeline of a productised booking site for clinics (Strategy 2027).',
    priority: 1,
    dueInDays: 7,
  },
  {
    key: 'template',
    title: 'Build the booking-site template',
    role: 'builder',
    brief: 'A reusable template with online booking, per the package definition.',
    priority: 2,
    after: ['package'],
    dueInDays: 21,
  },
  {
    key: 'pitch',
    title: 'Pitch the package to three dental leads',
    role: 'closer',
    brief: 'Use the Acme Dental case study.',
    priority: 2,
    after: ['package'],
    dueInDays: 14,
  },
  {
    key: 'monitor',
    title: 'Set up uptime monitoring for all client sites',
    role: 'operator',
    brief: 'Every client site in the monitor, alerts to the on-call channel.',
    priority: 2,
    dueInDays: 5,
  },
  {
    key: 'digest',
    title: 'Review last month’s SLA breaches',
    role: 'operator',
    brief: 'From the incident log.',
    priority: 3,
  },
  {
    key: 'northwind',
    title: 'Quarterly review with Northwind Logistics',
    role: 'closer',
    brief: 'Upsell the quote calculator v2.',
    priority: 3,
    dueInDays: 10,
  },
];

export const SAMPLE_FACTS: {
  entity: string;
  kind: string;
  observation?: string;
  relation?: { type: string; to: string; toKind: string };
  slug?: string;
}[] = [
  {
    entity: 'Acme Dental',
    kind: 'client',
    observation: 'Bookings rose 40% after the rebuild.',
    slug: 'case-study-acme-dental',
  },
  { entity: 'Dr. Maya Chen', kind: 'person', relation: { type: 'owns', to: 'Acme Dental', toKind: 'client' } },
  {
    entity: 'Northwind Logistics',
    kind: 'client',
    observation: 'Wants a second version of the quote calculator.',
    slug: 'case-study-northwind',
  },
  { entity: 'Acme Dental', kind: 'client', relation: { type: 'refers', to: 'Bright Smile Clinic', toKind: 'lead' } },
];

export const SAMPLE_LEADS: {
  name: string;
  company: string;
  email: string;
  stage: string;
  valueUsd: number;
  source: string;
  notes: string;
  lastContactDaysAgo: number | null;
}[] = [
  {
    name: 'Lena Ortiz',
    company: 'Bright Smile Clinic',
    email: 'lena@brightsmile.example',
    stage: 'qualified',
    valueUsd: 18_000,
    source: 'referral',
    notes: 'Referred by Acme Dental; wants online booking.',
    lastContactDaysAgo: 2,
  },
  {
    name: 'Tom Reyes',
    company: 'Harbor Physio',
    email: 'tom@harborphysio.example',
    stage: 'proposal',
    valueUsd: 12_000,
    source: 'search',
    notes: 'Worried about price; had a bad agency before.',
    lastContactDaysAgo: 5,
  },
  {
    name: 'Ana Silva',
    company: 'Paws & Claws Vet',
    email: 'ana@pawsclaws.example',
    stage: 'contacted',
    valueUsd: 9_000,
    source: 'event',
    notes: 'Not now, maybe next quarter.',
    lastContactDaysAgo: 20,
  },
  {
    name: 'Raj Patel',
    company: 'Northwind Logistics',
    email: 'raj@northwind.example',
    stage: 'won',
    valueUsd: 30_000,
    source: 'existing',
    notes: 'Quote calculator v2.',
    lastContactDaysAgo: 1,
  },
  {
    name: 'Sofia Novak',
    company: 'Cedar Family Dental',
    email: 'sofia@cedardental.example',
    stage: 'new',
    valueUsd: 15_000,
    source: 'ads',
    notes: 'Asked for pricing of a new site.',
    lastContactDaysAgo: 1,
  },
  {
    name: 'Ben Carter',
    company: 'Carter Plumbing',
    email: 'ben@carterplumbing.example',
    stage: 'lost',
    valueUsd: 4_000,
    source: 'search',
    notes: 'Chose a cheaper freelancer.',
    lastContactDaysAgo: 40,
  },
  {
    name: 'Mia Jensen',
    company: 'Nordic Yoga Studio',
    email: 'mia@nordicyoga.example',
    stage: 'new',
    valueUsd: 1_500,
    source: 'social',
    notes: 'Audit only.',
    lastContactDaysAgo: 3,
  },
];
