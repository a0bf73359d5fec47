import { HOT_LEAD_SCORE, type Insights, STALE_OPPORTUNITY_DAYS } from './insights.js';
import { money } from './score.js';

/**
 * Actions in a fixed order of kind, each present only when the data calls for it: people waiting
 * for an answer, then money in stalled deals, then hot leads, then the drop-off stage, then the
 * best source, then staffing the busy hours. Each comes with the figures behind it and the tools
 * that carry it out.
 */

export interface Recommendation {
  priority: number;
  action: string;
  why: string;
  tools: string[];
}

export function recommend(insights: Insights): Recommendation[] {
  // Pushed in priority order.
  const out: Omit<Recommendation, 'priority'>[] = [];

  const unread = insights.actionableNow.unreadInbound.count;
  if (unread > 0)
    out.push({
      action: `Reply to the ${unread} conversation${unread === 1 ? '' : 's'} waiting for an answer`,
      why: `${unread} contact${unread === 1 ? ' has' : 's have'} written in and not been answered.`,
      tools: ['gohighlevel.search_conversations', 'gohighlevel.get_messages', 'gohighlevel.send_message'],
    });

  const stale = insights.actionableNow.staleOpenOpportunities;
  if (stale.count > 0)
    out.push({
      action: `Follow up on ${stale.count} open opportunities that have not moved in ${STALE_OPPORTUNITY_DAYS} days`,
      why: `${money(stale.value)} of open pipeline is sitting still.`,
      tools: ['gohighlevel.search_opportunities', 'gohighlevel.create_task', 'gohighlevel.send_message'],
    });

  const hot = insights.hotLeads;
  if (hot.count > 0)
    out.push({
      action: `Call the ${Math.min(10, hot.count)} hottest leads first`,
      why: `${hot.count} leads score ${HOT_LEAD_SCORE} or more; top: ${hot.top
        .slice(0, 3)
        .map((h) => `${h.name} (${h.score})`)
        .join(', ')}.`,
      tools: ['gohighlevel.analyze_contact', 'gohighlevel.send_message', 'gohighlevel.list_appointments'],
    });

  const drop = insights.dropOffStage;
  if (drop !== null && drop.share >= 0.25)
    out.push({
      action: `Fix the drop-off at "${drop.stage}" in ${drop.pipeline}`,
      why: `${drop.lost} of the lost opportunities (${Math.round(drop.share * 100)}%) were lost at this stage, more than at any other.`,
      tools: ['gohighlevel.search_opportunities', 'gohighlevel.update_opportunity'],
    });

  const best = insights.bestConvertingSource;
  const overall = insights.sources.reduce((t, s) => ({ leads: t.leads + s.leads, won: t.won + s.won }), {
    leads: 0,
    won: 0,
  });
  const average = overall.leads === 0 ? 0 : overall.won / overall.leads;
  if (best !== null && best.rate > average * 1.5)
    out.push({
      action: `Put more into ${best.source}`,
      why: `${best.won} of ${best.leads} leads from ${best.source} (${Math.round(best.rate * 100)}%) have bought, against ${Math.round(average * 100)}% overall.`,
      tools: ['gohighlevel.search_contacts'],
    });

  const peak = insights.peakActivityWindow;
  if (peak !== undefined)
    out.push({
      action: `Staff the inbox on ${peak.weekday}s ${pad(peak.fromHour)}:00–${pad(peak.toHour)}:00 UTC`,
      why: `The busiest two hours of the week: ${peak.events} events (${Math.round(peak.share * 1000) / 10}% of ${peak.basis}).`,
      tools: ['gohighlevel.search_conversations'],
    });

  return out.map((r, i) => ({ priority: i + 1, ...r }));
}

function pad(hour: number): string {
  return String(hour).padStart(2, '0');
}
