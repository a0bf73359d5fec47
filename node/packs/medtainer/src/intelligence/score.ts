import type { GhlContact, GhlConversation, GhlOpportunity, GhlPipeline } from '../gohighlevel/wire.js';

/**
 * A lead's score, 0–100, as a sum of named reasons: each reason says what in the data gave it
 * its points, so a person can check it, and the score moves exactly as the reasons do when the
 * data changes.
 */

export interface Reason {
  factor: string;
  points: number;
  evidence: string;
}

export interface LeadFacts {
  contact: GhlContact;
  opportunities: readonly GhlOpportunity[];
  conversations: readonly GhlConversation[];
  pipelines: readonly GhlPipeline[];
}

export interface LeadScore {
  score: number;
  reasons: Reason[];
  /** The latest contact either way: a message, a stage change, or the sign-up. */
  lastTouch: string;
  nextAction: { action: string; tools: string[] };
}

const DAY = 86_400_000;
const BASE_POINTS = 20;

export function scoreLead(facts: LeadFacts, now: number): LeadScore {
  const { contact } = facts;
  const reasons: Reason[] = [{ factor: 'base', points: BASE_POINTS, evidence: 'every lead starts here' }];
  const add = (factor: string, points: number, evidence: string) => reasons.push({ factor, points, evidence });

  const inbound = facts.conversations
    .filter((c) => c.lastMessageDirection === 'inbound' && typeof c.lastMessageDate === 'number')
    .map((c) => c.lastMessageDate as number);
  const lastInbound = inbound.length === 0 ? undefined : Math.max(...inbound);
  if (lastInbound !== undefined && now - lastInbound <= 7 * DAY)
    add('recent_inbound', 25, `wrote in ${daysAgo(now, lastInbound)}`);
  else if (lastInbound !== undefined && now - lastInbound <= 30 * DAY)
    add('inbound_this_month', 12, `wrote in ${daysAgo(now, lastInbound)}`);

  // Unread counts only where they wrote last: an answered conversation waits for nobody.
  const unread = facts.conversations
    .filter((c) => c.lastMessageDirection === 'inbound')
    .reduce((sum, c) => sum + (c.unreadCount ?? 0), 0);
  if (unread > 0) add('awaiting_reply', 10, `${unread} unread message${unread === 1 ? '' : 's'} waiting for an answer`);

  const open = facts.opportunities.filter((o) => o.status === 'open');
  for (const o of open) {
    const stage = stageOf(facts.pipelines, o);
    add('open_opportunity', 10, `open opportunity "${o.name}"`);
    if (stage !== undefined && stage.position > 0)
      add('stage_progress', 4 * stage.position, `reached "${stage.name}" (stage ${stage.position + 1} of ${stage.of})`);
    if ((o.monetaryValue ?? 0) >= 2_000) add('high_value', 10, `worth ${money(o.monetaryValue ?? 0)}`);
  }
  if (facts.opportunities.some((o) => o.status === 'won')) add('customer', 10, 'has bought before');
  const lost = facts.opportunities.filter((o) => o.status === 'lost' || o.status === 'abandoned');
  if (lost.length > 0 && open.length === 0) add('lost', -10, `${lost.length} opportunity lost, none open`);

  const tags = new Set(contact.tags.map((t) => t.toLowerCase()));
  if (tags.has('hot')) add('tag_hot', 15, 'tagged "hot"');
  if (tags.has('vip')) add('tag_vip', 10, 'tagged "vip"');

  const lastTouch = lastTouchOf(facts);
  if (now - lastTouch > 30 * DAY) add('gone_quiet', -15, `no contact either way since ${daysAgo(now, lastTouch)}`);
  if (contact.dnd === true) add('do_not_disturb', -30, 'asked not to be contacted (DND)');

  const total = reasons.reduce((sum, r) => sum + r.points, 0);
  return {
    score: Math.max(0, Math.min(100, total)),
    reasons,
    lastTouch: new Date(lastTouch).toISOString(),
    nextAction: nextAction(facts, unread, open, now - lastTouch),
  };
}

function nextAction(
  facts: LeadFacts,
  unread: number,
  open: readonly GhlOpportunity[],
  quietMs: number,
): LeadScore['nextAction'] {
  if (facts.contact.dnd === true) return { action: 'none: the contact asked not to be contacted', tools: [] };
  if (unread > 0)
    return { action: 'reply to their unread message', tools: ['gohighlevel.get_messages', 'gohighlevel.send_message'] };
  if (open.length > 0 && quietMs > 7 * DAY)
    return {
      action: `follow up on "${open[0]?.name}": no contact for ${Math.floor(quietMs / DAY)} days`,
      tools: ['gohighlevel.send_message', 'gohighlevel.create_task'],
    };
  if (open.length > 0)
    return {
      action: 'move the open opportunity to its next stage when they agree',
      tools: ['gohighlevel.update_opportunity'],
    };
  if (facts.conversations.length === 0)
    return { action: 'introduce yourself: nobody has written to them yet', tools: ['gohighlevel.send_message'] };
  return { action: 'check in and offer what they asked about', tools: ['gohighlevel.send_message'] };
}

function lastTouchOf(facts: Pick<LeadFacts, 'contact' | 'opportunities' | 'conversations'>): number {
  const times = [Date.parse(facts.contact.dateAdded)];
  for (const c of facts.conversations) if (typeof c.lastMessageDate === 'number') times.push(c.lastMessageDate);
  for (const o of facts.opportunities) if (o.lastStageChangeAt) times.push(Date.parse(o.lastStageChangeAt));
  return Math.max(...times.filter((t) => Number.isFinite(t)));
}

function stageOf(
  pipelines: readonly GhlPipeline[],
  o: GhlOpportunity,
): { name: string; position: number; of: number } | undefined {
  const pipeline = pipelines.find((p) => p.id === o.pipelineId);
  if (pipeline === undefined) return undefined;
  // In the pipeline's own order where it gives one, else as listed.
  const stages = pipeline.stages
    .map((s, listed) => ({ ...s, order: s.position ?? listed }))
    .sort((a, b) => a.order - b.order);
  const index = stages.findIndex((s) => s.id === o.pipelineStageId);
  const stage = stages[index];
  if (stage === undefined) return undefined;
  return { name: stage.name, position: index, of: stages.length };
}

function daysAgo(now: number, at: number): string {
  const days = Math.floor((now - at) / DAY);
  return days === 0 ? 'today' : days === 1 ? 'yesterday' : `${days} days ago`;
}

export function money(value: number): string {
  return `$${Math.round(value).toLocaleString('en-US')}`;
}
