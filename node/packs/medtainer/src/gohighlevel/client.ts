import { type ApiClient, type ApiRequest, defined, parseAnswer, unreadable } from '@brainmesh/node/kit';
import { z } from 'zod';
import { compareKeys, conversationKey, newestFirst, type SortKey } from './match.js';
import {
  CONTACTS_VERSION,
  CONVERSATIONS_VERSION,
  type GhlContact,
  type GhlConversation,
  type GhlEvent,
  type GhlMessage,
  type GhlNote,
  type GhlOpportunity,
  type GhlPipeline,
  type GhlTask,
  ghlContact,
  ghlConversation,
  ghlEvent,
  ghlMessage,
  ghlNote,
  ghlOpportunity,
  ghlPipeline,
  ghlTask,
} from './wire.js';

/**
 * GoHighLevel API v2 as documented (docs/research/gohighlevel.md): each call sends the Version
 * its endpoint's spec lists, says whether a repeat is safe, and checks the answer's shape where it
 * enters, so a changed API fails here with a clear message rather than deep in a tool.
 */

/** POST /contacts/search's page size limit. */
export const CONTACTS_PAGE_MAX = 500;
/** Plain `page` paging stops at this many records; past it the search continues by `searchAfter`. */
export const CONTACTS_PAGE_REACH = 10_000;
/**
 * The order every contact search asks for, newest first: the sync cache sorts the same way
 * (match.ts `contactKey`), so a page number means the same contacts cached and live.
 */
const CONTACTS_SORT = [{ field: 'dateAdded', direction: 'desc' }] as const;
/** GET /opportunities/search's limit maximum. */
export const OPPORTUNITIES_PAGE_MAX = 100;
/** No maximum is documented for conversations; this is what brainmesh asks for at most. */
export const CONVERSATIONS_PAGE_MAX = 100;

/** Undefined fields are left out of the request (JSON has no undefined). */
export type ContactFields = OptionalFields<{
  firstName: string;
  lastName: string;
  name: string;
  email: string;
  phone: string;
  companyName: string;
  source: string;
  tags: string[];
  address1: string;
  city: string;
  state: string;
  postalCode: string;
  country: string;
  website: string;
  timezone: string;
  dnd: boolean;
  assignedTo: string;
}>;
type OptionalFields<T> = { [K in keyof T]?: T[K] | undefined };
/** PUT /contacts/{id} takes no companyName (UpdateContactDto). */
export type ContactUpdate = Omit<ContactFields, 'companyName'>;

export type OpportunityStatus = 'open' | 'won' | 'lost' | 'abandoned';
export type ConversationStatus = 'all' | 'read' | 'unread' | 'starred' | 'recents';
export type MessageType = 'SMS' | 'Email' | 'WhatsApp' | 'IG' | 'FB' | 'Custom' | 'Live_Chat';

export interface OpportunitySearch {
  pipelineId?: string | undefined;
  pipelineStageId?: string | undefined;
  contactId?: string | undefined;
  status?: OpportunityStatus | 'all' | undefined;
  q?: string | undefined;
  limit?: number | undefined;
  startAfter?: string | number | undefined;
  startAfterId?: string | undefined;
}

export interface OpportunityCursor {
  startAfter: string;
  startAfterId: string;
}

/** The last conversation given: its last message's time (epoch ms) and its id. */
export interface ConversationCursor {
  lastMessageDate: number;
  id: string;
}

export interface ConversationSearch {
  contactId?: string | undefined;
  query?: string | undefined;
  status?: ConversationStatus | undefined;
  limit?: number | undefined;
}

const SERVICE = 'GoHighLevel';

const contactsPage = z.looseObject({ contacts: z.array(ghlContact), total: z.number() });
const contactBody = z.looseObject({ contact: ghlContact });
const upsertBody = z.looseObject({ new: z.boolean(), contact: ghlContact });
const tagsBody = z.looseObject({ tags: z.array(z.string()) });
const noteBody = z.looseObject({ note: ghlNote });
const taskBody = z.looseObject({ task: ghlTask });
const opportunitiesPage = z.looseObject({
  opportunities: z.array(ghlOpportunity),
  meta: z
    .looseObject({
      total: z.number().optional(),
      startAfterId: z.string().nullish(),
      startAfter: z.union([z.number(), z.string()]).nullish(),
      nextPage: z.number().nullish(),
    })
    .default({}),
});
const pipelinesBody = z.looseObject({ pipelines: z.array(ghlPipeline) });
const opportunityBody = z.looseObject({ opportunity: ghlOpportunity });
const conversationsPage = z.looseObject({ conversations: z.array(ghlConversation), total: z.number() });
const messagesPage = z.looseObject({
  lastMessageId: z.string().nullish(),
  nextPage: z.boolean().default(false),
  messages: z.array(ghlMessage),
});
/** The spec nests the page under `messages`; its older sample (still in generated SDKs) is flat. */
const messagesAnswer = z.preprocess((body) => {
  const inner = typeof body === 'object' && body !== null ? (body as { messages?: unknown }).messages : undefined;
  return inner === undefined || Array.isArray(inner) ? body : inner;
}, messagesPage);
const sentBody = z.looseObject({
  conversationId: z.string(),
  messageId: z.string(),
  emailMessageId: z.string().optional(),
  messageIds: z.array(z.string()).optional(),
  msg: z.string().optional(),
});
const calendarsBody = z.looseObject({ calendars: z.array(z.looseObject({ id: z.string(), name: z.string() })) });
const eventsBody = z.looseObject({ events: z.array(ghlEvent) });

export class GoHighLevelApi {
  constructor(
    private readonly client: ApiClient,
    readonly locationId: string,
  ) {}

  // Contacts (Version 2021-07-28)

  async searchContacts(
    params: { query?: string | undefined; tags?: readonly string[] | undefined; page: number; pageLimit: number },
    signal?: AbortSignal,
  ): Promise<{ contacts: GhlContact[]; total: number }> {
    return this.contactsSearch({ page: params.page }, params, signal);
  }

  /**
   * Every contact: by page up to the 10,000 that `page` reaches, then by `searchAfter`. All or an
   * error: a list that cannot be read to its end is never given as if it were whole.
   */
  async allContacts(signal?: AbortSignal): Promise<GhlContact[]> {
    const all: GhlContact[] = [];
    const seen = new Set<string>();
    let page = 1;
    let searchAfter: unknown[] | undefined;
    for (;;) {
      const paging = searchAfter === undefined ? { page } : { searchAfter };
      const { contacts, total } = await this.contactsSearch(paging, { pageLimit: CONTACTS_PAGE_MAX }, signal);
      let added = 0;
      for (const c of contacts) {
        if (seen.has(c.id)) continue;
        seen.add(c.id);
        all.push(c);
        added++;
      }
      // An empty page ends the list, even when `total` counted contacts deleted meanwhile.
      if (contacts.length === 0 || all.length >= total) return all;
      // Nothing new: by cursor it would repeat forever, by page the list is not what it says.
      if (added === 0)
        throw unreadable(SERVICE, `a page of contacts held none not already read, with ${all.length} of ${total} read`);
      page++;
      if (searchAfter !== undefined || page * CONTACTS_PAGE_MAX > CONTACTS_PAGE_REACH) {
        const cursor = (contacts.at(-1) as { searchAfter?: unknown } | undefined)?.searchAfter;
        if (!Array.isArray(cursor))
          throw unreadable(
            SERVICE,
            `a page of contacts carries no searchAfter to go on from, with ${all.length} of ${total} read`,
          );
        searchAfter = cursor;
      }
    }
  }

  private async contactsSearch(
    paging: { page: number } | { searchAfter: unknown[] },
    params: { query?: string | undefined; tags?: readonly string[] | undefined; pageLimit: number },
    signal: AbortSignal | undefined,
  ) {
    const body: Record<string, unknown> = {
      locationId: this.locationId,
      pageLimit: params.pageLimit,
      ...paging,
      sort: CONTACTS_SORT,
    };
    if (params.query !== undefined && params.query !== '') body.query = params.query;
    if (params.tags !== undefined && params.tags.length > 0) {
      // Top-level filters all have to hold: one `eq` per tag asks for contacts with every tag.
      // GoHighLevel keeps tags lower-cased.
      body.filters = params.tags.map((tag) => ({ field: 'tags', operator: 'eq', value: tag.toLowerCase() }));
    }
    // A search changes nothing, so it may be repeated although it is a POST.
    return this.call(contactsPage, CONTACTS_VERSION, {
      method: 'POST',
      path: '/contacts/search',
      body,
      idempotent: true,
      signal,
    });
  }

  async getContact(id: string, signal?: AbortSignal): Promise<GhlContact> {
    const res = await this.call(contactBody, CONTACTS_VERSION, {
      method: 'GET',
      path: `/contacts/${encodeURIComponent(id)}`,
      idempotent: true,
      signal,
    });
    return res.contact;
  }

  /**
   * Creates, or updates the contact the location's "Allow Duplicate Contact" setting matches (by
   * default email, then phone). Repeated on failure: where duplicates are allowed, a repeat of a
   * create that did land may make a second contact.
   */
  async upsertContact(fields: ContactFields, signal?: AbortSignal): Promise<{ new: boolean; contact: GhlContact }> {
    const res = await this.call(upsertBody, CONTACTS_VERSION, {
      method: 'POST',
      path: '/contacts/upsert',
      body: { ...fields, locationId: this.locationId },
      idempotent: true,
      signal,
    });
    return { new: res.new, contact: res.contact };
  }

  async updateContact(id: string, fields: ContactUpdate, signal?: AbortSignal): Promise<GhlContact> {
    const res = await this.call(contactBody, CONTACTS_VERSION, {
      method: 'PUT',
      path: `/contacts/${encodeURIComponent(id)}`,
      body: fields,
      idempotent: true,
      signal,
    });
    return res.contact;
  }

  async addTags(id: string, tags: readonly string[], signal?: AbortSignal): Promise<string[]> {
    return this.tags('POST', id, tags, signal);
  }

  async removeTags(id: string, tags: readonly string[], signal?: AbortSignal): Promise<string[]> {
    return this.tags('DELETE', id, tags, signal);
  }

  private async tags(method: 'POST' | 'DELETE', id: string, tags: readonly string[], signal?: AbortSignal) {
    const res = await this.call(tagsBody, CONTACTS_VERSION, {
      method,
      path: `/contacts/${encodeURIComponent(id)}/tags`,
      body: { tags },
      // Adding a tag twice or removing it twice leaves the same tags.
      idempotent: true,
      signal,
    });
    return res.tags;
  }

  /** Sent once: a repeat would add a second note. */
  async addNote(contactId: string, body: string, signal?: AbortSignal): Promise<GhlNote> {
    const res = await this.call(noteBody, CONTACTS_VERSION, {
      method: 'POST',
      path: `/contacts/${encodeURIComponent(contactId)}/notes`,
      body: { body },
      idempotent: false,
      signal,
    });
    return res.note;
  }

  /** Sent once: a repeat would add a second task. */
  async createTask(
    contactId: string,
    task: { title: string; dueDate: string; body?: string | undefined; assignedTo?: string | undefined },
    signal?: AbortSignal,
  ): Promise<GhlTask> {
    const res = await this.call(taskBody, CONTACTS_VERSION, {
      method: 'POST',
      path: `/contacts/${encodeURIComponent(contactId)}/tasks`,
      body: { ...task, completed: false },
      idempotent: false,
      signal,
    });
    return res.task;
  }

  // Opportunities (Version 2021-07-28; the search's query names are snake_case)

  async searchOpportunities(
    params: OpportunitySearch,
    signal?: AbortSignal,
  ): Promise<{ opportunities: GhlOpportunity[]; total: number | undefined; next: OpportunityCursor | undefined }> {
    const limit = params.limit ?? 20;
    const res = await this.call(opportunitiesPage, CONTACTS_VERSION, {
      method: 'GET',
      path: '/opportunities/search',
      query: {
        location_id: this.locationId,
        pipeline_id: params.pipelineId,
        pipeline_stage_id: params.pipelineStageId,
        contact_id: params.contactId,
        status: params.status,
        q: params.q,
        limit,
        startAfter: params.startAfter,
        startAfterId: params.startAfterId,
      },
      idempotent: true,
      signal,
    });
    const { meta } = res;
    // A full page is followed by another unless the service says there is none.
    const more = res.opportunities.length >= limit && meta.nextPage !== null;
    if (!more) return { opportunities: res.opportunities, total: meta.total, next: undefined };
    if (typeof meta.startAfterId !== 'string' || meta.startAfter === undefined || meta.startAfter === null)
      throw unreadable(SERVICE, 'a full page of opportunities carries no startAfter and startAfterId to go on from');
    return {
      opportunities: res.opportunities,
      total: meta.total,
      next: { startAfter: String(meta.startAfter), startAfterId: meta.startAfterId },
    };
  }

  async allOpportunities(
    filter: Omit<OpportunitySearch, 'limit' | 'startAfter' | 'startAfterId'> = {},
    signal?: AbortSignal,
  ): Promise<GhlOpportunity[]> {
    const all: GhlOpportunity[] = [];
    const seen = new Set<string>();
    let cursor: OpportunityCursor | undefined;
    for (;;) {
      const page = await this.searchOpportunities({ ...filter, limit: OPPORTUNITIES_PAGE_MAX, ...cursor }, signal);
      let added = 0;
      for (const o of page.opportunities) {
        if (seen.has(o.id)) continue;
        seen.add(o.id);
        all.push(o);
        added++;
      }
      if (page.next === undefined) return all;
      if (page.total !== undefined && all.length >= page.total) return all;
      // The cursor did not move: going on would read the same page forever.
      if (added === 0)
        throw unreadable(SERVICE, `a page of opportunities held none not already read (${all.length} read so far)`);
      cursor = page.next;
    }
  }

  async listPipelines(signal?: AbortSignal): Promise<GhlPipeline[]> {
    const res = await this.call(pipelinesBody, CONTACTS_VERSION, {
      method: 'GET',
      path: '/opportunities/pipelines',
      query: { locationId: this.locationId },
      idempotent: true,
      signal,
    });
    return res.pipelines;
  }

  async getOpportunity(id: string, signal?: AbortSignal): Promise<GhlOpportunity> {
    const res = await this.call(opportunityBody, CONTACTS_VERSION, {
      method: 'GET',
      path: `/opportunities/${encodeURIComponent(id)}`,
      idempotent: true,
      signal,
    });
    return res.opportunity;
  }

  /** Sets the fields given; a repeat sets them again, to the same values. */
  async updateOpportunity(
    id: string,
    change: {
      pipelineId?: string | undefined;
      pipelineStageId?: string | undefined;
      status?: OpportunityStatus | undefined;
      monetaryValue?: number | undefined;
    },
    signal?: AbortSignal,
  ): Promise<GhlOpportunity> {
    const res = await this.call(opportunityBody, CONTACTS_VERSION, {
      method: 'PUT',
      path: `/opportunities/${encodeURIComponent(id)}`,
      body: defined(change),
      idempotent: true,
      signal,
    });
    return res.opportunity;
  }

  // Conversations (Version 2021-04-15)

  /**
   * One page of conversations, most recent message first, after a cursor (the last one given).
   * The service pages by time alone (`startAfterDate`, strictly older) and documents no order
   * among conversations sharing a time, so nothing here depends on that order: a page is sorted
   * as the sync cache sorts (match.ts, newest first, then by id), a full page leaves out the ones
   * sharing its last time (more of them may follow) for the next page to read whole, and each
   * page is asked from the cursor's time included, the ones up to the cursor dropped.
   */
  async searchConversations(
    params: ConversationSearch & { after?: ConversationCursor | undefined },
    signal?: AbortSignal,
  ): Promise<{ conversations: GhlConversation[]; total: number; next: ConversationCursor | undefined }> {
    const limit = params.limit ?? 20;
    const { after, ...filter } = params;
    const cursor: SortKey | undefined = after && [after.lastMessageDate, after.id];
    // Always a whole page: the cursor's time is read again, and a cut time group is left out.
    const ask = CONVERSATIONS_PAGE_MAX;
    let startAfterDate = cursor === undefined ? undefined : cursor[0] + 1;
    for (;;) {
      const page = await this.conversationsPage({ ...filter, limit: ask, startAfterDate }, signal);
      const full = page.conversations.length >= ask;
      if (full && page.conversations.some((c) => typeof c.lastMessageDate !== 'number'))
        throw unreadable(SERVICE, 'a full page of conversations carries no lastMessageDate to go on from');
      const sorted = newestFirst(page.conversations, conversationKey);
      const cut = full ? sorted.at(-1)?.lastMessageDate : undefined;
      const whole = full ? sorted.filter((c) => c.lastMessageDate !== cut) : sorted;
      const fresh = cursor === undefined ? whole : whole.filter((c) => compareKeys(conversationKey(c), cursor) > 0);
      const shown = fresh.slice(0, limit);
      if (!full && fresh.length <= limit) return { conversations: shown, total: page.total, next: undefined };
      const last = shown.at(-1);
      if (last !== undefined) return { conversations: shown, total: page.total, next: toCursor(last) };
      // Nothing new, yet whole time groups: they can only be the cursor's, all of it given already.
      // Its time is then done with, and the page is asked again from before it.
      if (cursor !== undefined && startAfterDate !== cursor[0] && whole.length > 0) {
        startAfterDate = cursor[0];
        continue;
      }
      throw unreadable(
        SERVICE,
        `a full page of ${ask} conversations held none not already given: more of them share one last-message time`,
      );
    }
  }

  /**
   * Every conversation. Each page is asked from the last one's time included, and what was read
   * already is dropped by id: conversations sharing a time across pages all come back. All or an
   * error: a page that cannot be gone on from, or that brings nothing new, fails the whole read.
   */
  async allConversations(signal?: AbortSignal): Promise<GhlConversation[]> {
    const all: GhlConversation[] = [];
    const seen = new Set<string>();
    let startAfterDate: number | undefined;
    for (;;) {
      const page = await this.conversationsPage({ limit: CONVERSATIONS_PAGE_MAX, startAfterDate }, signal);
      let added = 0;
      for (const c of page.conversations) {
        if (seen.has(c.id)) continue;
        seen.add(c.id);
        all.push(c);
        added++;
      }
      // Only a short page ends the list: `total` may count conversations changed meanwhile.
      if (page.conversations.length < CONVERSATIONS_PAGE_MAX) return all;
      if (added === 0)
        throw unreadable(
          SERVICE,
          `a full page of conversations held none not already read: more than ${CONVERSATIONS_PAGE_MAX} share one last-message time`,
        );
      const last = page.conversations.at(-1)?.lastMessageDate;
      if (typeof last !== 'number')
        throw unreadable(SERVICE, 'a full page of conversations carries no lastMessageDate to go on from');
      startAfterDate = last + 1;
    }
  }

  /** GET /conversations/search as sent: `startAfterDate` gives the conversations strictly older than it. */
  private async conversationsPage(
    params: ConversationSearch & { limit: number; startAfterDate: number | undefined },
    signal: AbortSignal | undefined,
  ): Promise<{ conversations: GhlConversation[]; total: number }> {
    return this.call(conversationsPage, CONVERSATIONS_VERSION, {
      method: 'GET',
      path: '/conversations/search',
      query: {
        locationId: this.locationId,
        contactId: params.contactId,
        query: params.query,
        status: params.status,
        limit: params.limit,
        startAfterDate: params.startAfterDate,
      },
      idempotent: true,
      signal,
    });
  }

  /** One page of a conversation's messages, newest first; both documented answer shapes are read. */
  async getMessages(
    conversationId: string,
    params: { limit?: number | undefined; lastMessageId?: string | undefined } = {},
    signal?: AbortSignal,
  ): Promise<{ messages: GhlMessage[]; lastMessageId: string | undefined; nextPage: boolean }> {
    const page = await this.call(messagesAnswer, CONVERSATIONS_VERSION, {
      method: 'GET',
      path: `/conversations/${encodeURIComponent(conversationId)}/messages`,
      query: { limit: params.limit, lastMessageId: params.lastMessageId },
      idempotent: true,
      signal,
    });
    return { messages: page.messages, lastMessageId: page.lastMessageId ?? undefined, nextPage: page.nextPage };
  }

  /** Sent once, whatever happens: a repeat could reach the customer twice. */
  async sendMessage(
    msg: {
      type: MessageType;
      contactId: string;
      message?: string | undefined;
      subject?: string | undefined;
      html?: string | undefined;
    },
    signal?: AbortSignal,
  ): Promise<z.output<typeof sentBody>> {
    return this.call(sentBody, CONVERSATIONS_VERSION, {
      method: 'POST',
      path: '/conversations/messages',
      body: defined(msg),
      idempotent: false,
      signal,
    });
  }

  // Calendars (Version 2021-04-15)

  async listCalendars(signal?: AbortSignal): Promise<{ id: string; name: string }[]> {
    const res = await this.call(calendarsBody, CONVERSATIONS_VERSION, {
      method: 'GET',
      path: '/calendars/',
      query: { locationId: this.locationId },
      idempotent: true,
      signal,
    });
    return res.calendars.map((c) => ({ id: c.id, name: c.name }));
  }

  /** A calendar's events that start in [start, end]; the API does not page these. */
  async listEvents(
    params: { calendarId: string; startTime: Date; endTime: Date },
    signal?: AbortSignal,
  ): Promise<GhlEvent[]> {
    const res = await this.call(eventsBody, CONVERSATIONS_VERSION, {
      method: 'GET',
      path: '/calendars/events',
      query: {
        locationId: this.locationId,
        calendarId: params.calendarId,
        startTime: String(params.startTime.getTime()),
        endTime: String(params.endTime.getTime()),
      },
      idempotent: true,
      signal,
    });
    return res.events;
  }

  private async call<S extends z.ZodType>(
    schema: S,
    version: string,
    req: Omit<ApiRequest, 'headers' | 'signal'> & { signal?: AbortSignal | undefined },
  ): Promise<z.output<S>> {
    const { signal, ...rest } = req;
    const res = await this.client.request<unknown>({
      ...rest,
      ...(signal === undefined ? {} : { signal }),
      headers: { version },
    });
    return parseAnswer(SERVICE, schema, res.body);
  }
}

/** Where the next page starts: after this conversation. */
function toCursor(c: GhlConversation): ConversationCursor {
  return { lastMessageDate: c.lastMessageDate ?? 0, id: c.id };
}
