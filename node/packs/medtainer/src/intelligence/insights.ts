import { contactName } from '../gohighlevel/match.js';
import type { GhlConversation, GhlOpportunity } from '../gohighlevel/wire.js';
import { scoreLead } from './score.js';
import type { Snapshot } from './snapshot.js';

/**
 * What the CRM says as a whole, each figure computed in the open from the snapshot: counts,
 * shares and the rows behind them, so any number can be checked by hand.
 */

const DAY = 86_400_000;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
/** A source needs this many leads before its conversion rate is worth comparing. */
const MIN_SOURCE_LEADS = 20;
export const STALE_OPPORTUNITY_DAYS = 14;
export const HOT_LEAD_SCORE = 60;

export interface PeakWindow {
  weekday: string;
  /** UTC hours, [from, to). */
  fromHour: number;
  toHour: number;
  events: number;
  /** Of all the events counted. */
  share: number;
  basis: string;
}

export interface SourceConversion {
  source: string;
  leads: number;
  won: number;
  rate: number;
}

export interface DropOff {
  pipeline: string;
  stage: string;
  lost: number;
  share: number;
}

interface Indexed {
  byContact: Map<string, { opportunities: GhlOpportunity[]; conversations: GhlConversation[] }>;
}

function index(snapshot: Snapshot): Indexed {
  const byContact = new Map<string, { opportunities: GhlOpportunity[]; conversations: GhlConversation[] }>();
  const of = (id: string) => {
    let entry = byContact.get(id);
    if (entry === undefined) {
      entry = { opportunities: [], conversations: [] };
      byContact.set(id, entry);
    }
    return entry;
  };
  for (const o of snapshot.opportunities) of(o.contactId).opportunities.push(o);
  for (const c of snapshot.conversations) of(c.contactId).conversations.push(c);
  return { byContact };
}

/**
 * When people get in touch: new leads signing up and customers writing in, counted by weekday
 * and two-hour block of the day (UTC); the busiest block wins, ties to the earliest.
 */
function peakWindow(snapshot: Snapshot): PeakWindow | undefined {
  const counts = new Map<number, number>();
  const count = (ms: number) => {
    const d = new Date(ms);
    const key = d.getUTCDay() * 12 + Math.floor(d.getUTCHours() / 2);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  let signups = 0;
  let inbound = 0;
  for (const c of snapshot.contacts) {
    const at = Date.parse(c.dateAdded);
    if (Number.isFinite(at)) {
      count(at);
      signups++;
    }
  }
  for (const c of snapshot.conversations) {
    if (c.lastMessageDirection === 'inbound' && typeof c.lastMessageDate === 'number') {
      count(c.lastMessageDate);
      inbound++;
    }
  }
  let best: [number, number] | undefined;
  for (const [key, n] of [...counts].sort((a, b) => a[0] - b[0]))
    if (best === undefined || n > best[1]) best = [key, n];
  if (best === undefined) return undefined;
  const total = signups + inbound;
  const block = best[0] % 12;
  return {
    weekday: WEEKDAYS[Math.floor(best[0] / 12)] ?? '?',
    fromHour: block * 2,
    toHour: block * 2 + 2,
    events: best[1],
    share: round(best[1] / total),
    basis: `${signups} lead sign-ups and ${inbound} conversations whose last message came in`,
  };
}

/** Per source: of its leads (contacts), how many have a won opportunity. */
function sourceConversion(snapshot: Snapshot, indexed: Indexed): SourceConversion[] {
  const bySource = new Map<string, { leads: number; won: number }>();
  for (const contact of snapshot.contacts) {
    const source = contact.source?.trim() || '(unknown)';
    const entry = bySource.get(source) ?? { leads: 0, won: 0 };
    entry.leads++;
    if (indexed.byContact.get(contact.id)?.opportunities.some((o) => o.status === 'won')) entry.won++;
    bySource.set(source, entry);
  }
  return [...bySource]
    .map(([source, { leads, won }]) => ({ source, leads, won, rate: round(won / leads) }))
    .sort((a, b) => b.rate - a.rate || b.leads - a.leads || a.source.localeCompare(b.source));
}

/** Where lost and abandoned opportunities were when they were lost. */
function dropOffs(snapshot: Snapshot): DropOff[] {
  const lost = snapshot.opportunities.filter((o) => o.status === 'lost' || o.status === 'abandoned');
  const byStage = new Map<string, number>();
  for (const o of lost) byStage.set(o.pipelineStageId, (byStage.get(o.pipelineStageId) ?? 0) + 1);
  const names = new Map<string, { pipeline: string; stage: string }>();
  for (const p of snapshot.pipelines) for (const s of p.stages) names.set(s.id, { pipeline: p.name, stage: s.name });
  return [...byStage]
    .map(([id, n]) => ({
      pipeline: names.get(id)?.pipeline ?? '(unknown pipeline)',
      stage: names.get(id)?.stage ?? id,
      lost: n,
      share: round(n / lost.length),
    }))
    .sort((a, b) => b.lost - a.lost || a.stage.localeCompare(b.stage));
}

export function computeInsights(snapshot: Snapshot, now: number) {
  const indexed = index(snapshot);
  const open = snapshot.opportunities.filter((o) => o.status === 'open');
  const won = snapshot.opportunities.filter((o) => o.status === 'won');
  const unread = snapshot.conversations.filter((c) => c.unreadCount > 0 && c.lastMessageDirection === 'inbound');
  const stale = open.filter((o) => now - Date.parse(o.lastStageChangeAt ?? o.createdAt) > STALE_OPPORTUNITY_DAYS * DAY);
  const names = new Map(snapshot.contacts.map((c) => [c.id, contactName(c)]));
  const scored = snapshot.contacts.map((contact) => {
    const related = indexed.byContact.get(contact.id);
    return {
      contact,
      ...scoreLead(
        {
          contact,
          opportunities: related?.opportunities ?? [],
          conversations: related?.conversations ?? [],
          pipelines: snapshot.pipelines,
        },
        now,
      ),
    };
  });
  const hot = scored
    .filter((s) => s.score >= HOT_LEAD_SCORE)
    .sort((a, b) => b.score - a.score || a.contact.id.localeCompare(b.contact.id));
  const sources = sourceConversion(snapshot, indexed);
  const comparable = sources.filter((s) => s.leads >= MIN_SOURCE_LEADS);
  const drops = dropOffs(snapshot);
  const sum = (xs: readonly GhlOpportunity[]) => xs.reduce((t, o) => t + (o.monetaryValue ?? 0), 0);

  return {
    totals: {
      contacts: snapshot.contacts.length,
      newContactsLast30Days: snapshot.contacts.filter((c) => now - Date.parse(c.dateAdded) <= 30 * DAY).length,
      opportunities: {
        open: open.length,
        won: won.length,
        lost: snapshot.opportunities.filter((o) => o.status === 'lost').length,
        abandoned: snapshot.opportunities.filter((o) => o.status === 'abandoned').length,
      },
      openPipelineValue: sum(open),
      wonValue: sum(won),
      conversations: snapshot.conversations.length,
    },
    actionableNow: {
      unreadInbound: {
        count: unread.length,
        examples: unread
          .slice(0, 5)
          .map((c) => ({ conversationId: c.id, contact: names.get(c.contactId) ?? c.contactId })),
      },
      staleOpenOpportunities: {
        count: stale.length,
        value: sum(stale),
        rule: `open, no stage change for more than ${STALE_OPPORTUNITY_DAYS} days`,
      },
    },
    hotLeads: {
      count: hot.length,
      rule: `lead score ${HOT_LEAD_SCORE} or more (see gohighlevel.analyze_contact for the reasons)`,
      top: hot.slice(0, 10).map((h) => ({
        contactId: h.contact.id,
        name: names.get(h.contact.id),
        score: h.score,
        because: h.reasons.filter((r) => r.points > 0 && r.factor !== 'base').map((r) => r.evidence),
      })),
    },
    peakActivityWindow: peakWindow(snapshot),
    bestConvertingSource: comparable[0] ?? null,
    sources: sources.map((s) => ({ ...s, comparable: s.leads >= MIN_SOURCE_LEADS })),
    dropOffStage: drops[0] ?? null,
    lostByStage: drops,
  };
}

export type Insights = ReturnType<typeof computeInsights>;

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
