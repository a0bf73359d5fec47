import type { GhlContact, GhlConversation, GhlOpportunity } from './wire.js';

/**
 * What a GoHighLevel search keeps and in which order, written once: the emulator answers with it
 * and the tools filter the sync cache with it, so a cached answer and a live (or sample) one agree.
 */

export interface ContactFilter {
  /** Free text over name, email, phone and company, case-insensitive. */
  query?: string | undefined;
  /** Every one of these tags must be on the contact. */
  tags?: readonly string[] | undefined;
}

export interface OpportunityFilter {
  pipelineId?: string | undefined;
  pipelineStageId?: string | undefined;
  /** `all` (or nothing) keeps every status. */
  status?: string | undefined;
  contactId?: string | undefined;
  /** Free text over the opportunity's name and its contact's name, case-insensitive. */
  q?: string | undefined;
}

export interface ConversationFilter {
  contactId?: string | undefined;
  /** Free text over the contact's name, email, phone and the last message. */
  query?: string | undefined;
  /** GoHighLevel's `status`: all, read, unread, starred, recents. */
  status?: string | undefined;
}

export function contactName(c: GhlContact): string {
  if (typeof c.name === 'string' && c.name !== '') return c.name;
  // Search results may carry only the lower-cased names.
  const lower = c as { firstNameLowerCase?: unknown; lastNameLowerCase?: unknown };
  return [c.firstName ?? lower.firstNameLowerCase, c.lastName ?? lower.lastNameLowerCase]
    .filter((p) => typeof p === 'string' && p !== '')
    .join(' ');
}

function includesText(haystack: readonly (string | null | undefined)[], needle: string): boolean {
  const n = needle.trim().toLowerCase();
  if (n === '') return true;
  const digits = n.replace(/\D/g, '');
  // A phone typed with other punctuation than stored ("(555) 010-2233" against "+15550102233").
  const phoneLike = digits.length >= 4 && /^[\d\s()+.-]+$/.test(n);
  return haystack.some(
    (h) =>
      typeof h === 'string' && (h.toLowerCase().includes(n) || (phoneLike && h.replace(/\D/g, '').includes(digits))),
  );
}

function hasAllTags(c: GhlContact, tags: readonly string[] | undefined): boolean {
  if (tags === undefined || tags.length === 0) return true;
  // GoHighLevel keeps tags lower-cased; a request in another case still means the same tag.
  const have = new Set(c.tags.map((t) => t.toLowerCase()));
  return tags.every((t) => have.has(t.toLowerCase()));
}

export function contactMatches(c: GhlContact, filter: ContactFilter): boolean {
  if (!hasAllTags(c, filter.tags)) return false;
  if (filter.query === undefined) return true;
  return includesText([contactName(c), c.firstName, c.lastName, c.email, c.phone, c.companyName], filter.query);
}

export function opportunityMatches(o: GhlOpportunity, filter: OpportunityFilter): boolean {
  if (filter.pipelineId !== undefined && o.pipelineId !== filter.pipelineId) return false;
  if (filter.pipelineStageId !== undefined && o.pipelineStageId !== filter.pipelineStageId) return false;
  if (filter.status !== undefined && filter.status !== 'all' && o.status !== filter.status) return false;
  if (filter.contactId !== undefined && o.contactId !== filter.contactId) return false;
  if (filter.q === undefined) return true;
  const contact = (o as { contact?: { name?: unknown } }).contact;
  return includesText([o.name, typeof contact?.name === 'string' ? contact.name : undefined], filter.q);
}

export function conversationMatches(c: GhlConversation, filter: ConversationFilter): boolean {
  if (filter.contactId !== undefined && c.contactId !== filter.contactId) return false;
  switch (filter.status) {
    case 'unread':
      if (c.unreadCount === 0) return false;
      break;
    case 'read':
      if (c.unreadCount > 0) return false;
      break;
    case 'starred':
      if ((c as { starred?: unknown }).starred !== true) return false;
      break;
    default:
      break;
  }
  if (filter.query === undefined) return true;
  const contactName = (c as { contactName?: unknown }).contactName;
  return includesText(
    [c.fullName, typeof contactName === 'string' ? contactName : undefined, c.email, c.phone, c.lastMessageBody],
    filter.query,
  );
}

/** A sort key: a time in epoch ms, then the id to break ties. Lists are newest first. */
export type SortKey = readonly [number, string];

export const contactKey = (c: GhlContact): SortKey => [Date.parse(c.dateAdded) || 0, c.id];
export const opportunityKey = (o: GhlOpportunity): SortKey => [Date.parse(o.createdAt) || 0, o.id];
export const conversationKey = (c: GhlConversation): SortKey => [c.lastMessageDate ?? 0, c.id];

/** Newest first; equal times by id, descending, so the order is total. */
export function compareKeys(a: SortKey, b: SortKey): number {
  if (a[0] !== b[0]) return b[0] - a[0];
  return a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0;
}

export function newestFirst<T>(items: readonly T[], key: (item: T) => SortKey): T[] {
  // Keys computed once: parsing dates inside the comparator is slow over thousands of contacts.
  return items
    .map((item) => ({ item, key: key(item) }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ item }) => item);
}

/** The items of a newest-first list that come after a cursor (a key taken from the last item seen). */
export function after<T>(sorted: readonly T[], key: (item: T) => SortKey, cursor: SortKey | undefined): T[] {
  if (cursor === undefined) return [...sorted];
  return sorted.filter((item) => compareKeys(key(item), cursor) > 0);
}
