import { type EmulatedRequest, type EmulatedResponse, Emulator, type EmulatorOptions } from '@brainmesh/node/kit';
import { z } from 'zod';
import {
  after,
  compareKeys,
  contactKey,
  contactMatches,
  conversationKey,
  conversationMatches,
  newestFirst,
  opportunityKey,
  opportunityMatches,
  type SortKey,
} from '../gohighlevel/match.js';
import {
  CONTACTS_VERSION,
  CONVERSATIONS_VERSION,
  type GhlContact,
  type GhlConversation,
  type GhlMessage,
  type GhlOpportunity,
} from '../gohighlevel/wire.js';
import type { SampleBusiness } from './business.js';

/**
 * GoHighLevel API v2 over the sample business, as docs/research/gohighlevel.md describes it.
 * Where the docs are silent the choice is a guess, marked as one: the 400 for a wrong Version,
 * the 403 for another location, the 429 body, and the validation messages (NestJS style).
 */

const BURST_MAX = 100;
const BURST_WINDOW_MS = 10_000;
const DAILY_MAX = 200_000;
const CONTACTS_PAGE_MAX = 500;
const CONTACTS_PAGE_REACH = 10_000;
const OPPORTUNITIES_LIMIT_MAX = 100;

const json = (status: number, body: unknown): EmulatedResponse => ({ status, body });
const fail = (status: number, message: string, error?: string): EmulatedResponse =>
  json(status, error === undefined ? { statusCode: status, message } : { statusCode: status, message, error });
const unprocessable = (messages: string[]): EmulatedResponse =>
  json(422, { statusCode: 422, message: messages, error: 'Unprocessable Entity' });
const notFound = (what: string) => fail(404, `${what} not found`);

type Checked<T> = { ok: true; data: T } | { ok: false; res: EmulatedResponse };

/** class-validator's messages, roughly: what NestJS sends back for a body it refuses. */
function check<S extends z.ZodType>(schema: S, value: unknown): Checked<z.output<S>> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return { ok: true, data: parsed.data };
  const messages = parsed.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => `property ${k} should not exist`)
      : [`${i.path.join('.') || 'body'} ${i.message}`],
  );
  return { ok: false, res: unprocessable(messages) };
}

const text = z.string().max(10_000);
const contactFields = {
  firstName: text.optional(),
  lastName: text.optional(),
  name: text.optional(),
  email: z.string().email().optional(),
  phone: text.optional(),
  address1: text.optional(),
  city: text.optional(),
  state: text.optional(),
  postalCode: text.optional(),
  website: text.optional(),
  timezone: text.optional(),
  dnd: z.boolean().optional(),
  dndSettings: z.record(z.string(), z.unknown()).optional(),
  inboundDndSettings: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(z.string()).optional(),
  customFields: z.array(z.record(z.string(), z.unknown())).optional(),
  source: text.optional(),
  country: text.optional(),
  assignedTo: text.optional(),
};
const upsertDto = z.strictObject({
  ...contactFields,
  locationId: z.string(),
  gender: text.optional(),
  companyName: text.optional(),
});
const updateDto = z.strictObject(contactFields);
const tagsDto = z.strictObject({ tags: z.array(z.string().min(1)).min(1) });
const noteDto = z.strictObject({ body: z.string().min(1), userId: z.string().optional() });
const taskDto = z.strictObject({
  title: z.string().min(1),
  dueDate: z.iso.datetime({ offset: true }),
  completed: z.boolean(),
  body: z.string().optional(),
  assignedTo: z.string().optional(),
});
const searchDto = z.looseObject({
  locationId: z.string(),
  pageLimit: z.number().int().min(1).max(CONTACTS_PAGE_MAX),
  page: z.number().int().min(1).optional(),
  searchAfter: z.tuple([z.number(), z.string()]).optional(),
  sort: z.array(z.object({ field: z.string(), direction: z.enum(['asc', 'desc']) })).optional(),
  query: z.string().max(75).optional(),
  filters: z
    .array(z.object({ field: z.string(), operator: z.string(), value: z.union([z.string(), z.array(z.string())]) }))
    .optional(),
});
const opportunityStatus = z.enum(['open', 'won', 'lost', 'abandoned']);
const updateOpportunityDto = z.strictObject({
  pipelineId: z.string().optional(),
  name: z.string().min(1).optional(),
  pipelineStageId: z.string().optional(),
  status: opportunityStatus.optional(),
  monetaryValue: z.number().min(0).optional(),
  assignedTo: z.string().optional(),
  customFields: z.array(z.record(z.string(), z.unknown())).optional(),
});
const sendDto = z.strictObject({
  type: z.enum(['SMS', 'Email', 'WhatsApp', 'IG', 'FB', 'Custom', 'Live_Chat']),
  contactId: z.string().min(1),
  message: z.string().optional(),
  html: z.string().optional(),
  subject: z.string().optional(),
  emailFrom: z.string().optional(),
  emailTo: z.string().optional(),
  emailCc: z.array(z.string()).optional(),
  emailBcc: z.array(z.string()).optional(),
  emailReplyMode: z.enum(['reply', 'reply_all']).optional(),
  replyMessageId: z.string().optional(),
  threadId: z.string().optional(),
  templateId: z.string().optional(),
  attachments: z.array(z.string()).optional(),
  appointmentId: z.string().optional(),
  scheduledTimestamp: z.number().optional(),
  conversationProviderId: z.string().optional(),
  fromNumber: z.string().optional(),
  toNumber: z.string().optional(),
});

/** A limit from the query: a positive whole number no larger than `max`, or the default. */
function limitOf(query: URLSearchParams, fallback: number, max?: number): Checked<number> {
  const raw = query.get('limit');
  if (raw === null) return { ok: true, data: fallback };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return { ok: false, res: unprocessable(['limit must be a positive integer']) };
  if (max !== undefined && n > max) return { ok: false, res: unprocessable([`limit must not be greater than ${max}`]) };
  return { ok: true, data: n };
}

const digitsOf = (phone: string | null | undefined) => (phone ?? '').replace(/\D/g, '');

export interface GoHighLevelEmulatorOptions extends EmulatorOptions {
  /**
   * The order of conversations sharing a last-message time, which the service does not document:
   * by id descending (as match.ts sorts) unless a test asks for ascending, to show the client
   * does not depend on it.
   */
  conversationTies?: 'desc' | 'asc';
}

export function goHighLevelEmulator(
  business: SampleBusiness,
  credentials: { token: string; locationId: string },
  options: GoHighLevelEmulatorOptions = {},
): Emulator {
  const ghl = business.gohighlevel;
  // The location is the one the credentials name: the token is for it, and what is made is in it.
  const locationId = credentials.locationId;
  // One clock for the rate-limit windows and for the times written, so a test can move both.
  const clock = options.now ?? Date.now;
  const rateLimits = options.rateLimits !== false;
  const stamp = () => new Date(clock()).toISOString();

  // Ids from a counter: the same writes give the same ids on every run.
  let counter = 0;
  const newId = (prefix: string, taken: (id: string) => boolean): string => {
    for (;;) {
      counter++;
      const id = `${prefix}${String(counter).padStart(16, '0')}`;
      if (!taken(id)) return id;
    }
  };

  // The burst budget counts a fixed 10 s window from its first request, as the headers describe.
  let windowStart = 0;
  let inWindow = 0;
  let day = '';
  let today = 0;
  const count = (): boolean => {
    const now = clock();
    if (now - windowStart >= BURST_WINDOW_MS) {
      windowStart = now;
      inWindow = 0;
    }
    const date = new Date(now).toISOString().slice(0, 10);
    if (date !== day) {
      day = date;
      today = 0;
    }
    inWindow++;
    today++;
    return inWindow > BURST_MAX || today > DAILY_MAX;
  };

  const location = (value: string | null | undefined, name: string): EmulatedResponse | undefined => {
    if (value === null || value === undefined || value === '') return unprocessable([`${name} should not be empty`]);
    // A guess: the token is for one location, and another one is refused as forbidden.
    if (value !== locationId) return fail(403, 'The token does not have access to this location', 'Forbidden');
    return undefined;
  };

  const contactById = (id: string) => ghl.contacts.find((c) => c.id === id);
  const withContact = (o: GhlOpportunity): GhlOpportunity => {
    const c = contactById(o.contactId);
    if (c === undefined) return o;
    const name = [c.firstName, c.lastName].filter(Boolean).join(' ') || c.name || '';
    const contact = { id: c.id, name, companyName: c.companyName, email: c.email, phone: c.phone, tags: c.tags };
    return { ...o, contact };
  };

  const emulator = new Emulator({
    before(req, route) {
      // Counted always, so the headers tell the budget; refused only when limits are on.
      if (count() && rateLimits) return fail(429, 'Too Many Requests'); // The body is a guess: none is documented.
      if (req.headers.get('authorization') !== `Bearer ${credentials.token}`)
        return fail(401, 'Invalid token: access token is invalid', 'Unauthorized');
      const path = route.slice(route.indexOf(' ') + 1);
      const version =
        path.startsWith('/conversations') || path.startsWith('/calendars') ? CONVERSATIONS_VERSION : CONTACTS_VERSION;
      // A guess: the docs give no body for a missing or wrong Version.
      if (req.headers.get('version') !== version) return fail(400, 'Version header is missing or invalid');
      return undefined;
    },
    headers: () => ({
      'X-RateLimit-Limit-Daily': String(DAILY_MAX),
      'X-RateLimit-Daily-Remaining': String(Math.max(0, DAILY_MAX - today)),
      'X-RateLimit-Interval-Milliseconds': String(BURST_WINDOW_MS),
      'X-RateLimit-Max': String(BURST_MAX),
      'X-RateLimit-Remaining': String(Math.max(0, BURST_MAX - inWindow)),
    }),
    notFound: (req) => {
      count();
      return fail(404, `Cannot ${req.method} ${req.path}`, 'Not Found');
    },
  });

  // Contacts

  emulator.route('POST', '/contacts/search', (req) => {
    const body = check(searchDto, req.body);
    if (!body.ok) return body.res;
    const { pageLimit, page, searchAfter, sort, query, filters } = body.data;
    const denied = location(body.data.locationId, 'locationId');
    if (denied !== undefined) return denied;
    if (page !== undefined && searchAfter !== undefined)
      return unprocessable(['page and searchAfter cannot be used together']);
    const tags: string[] = [];
    for (const f of filters ?? []) {
      if (f.field !== 'tags' || (f.operator !== 'eq' && f.operator !== 'contains'))
        return unprocessable([`filter ${f.field} ${f.operator} is not supported by the sample service`]);
      tags.push(...(Array.isArray(f.value) ? f.value : [f.value]));
    }
    // Only the sort brainmesh sends, by the date added (newest first without one, a guess).
    if ((sort ?? []).length > 1 || (sort ?? []).some((s) => s.field !== 'dateAdded'))
      return unprocessable(['sort other than one by dateAdded is not supported by the sample service']);
    const ascending = sort?.[0]?.direction === 'asc';
    const newest = newestFirst(
      ghl.contacts.filter((c) => contactMatches(c, { query, tags })),
      contactKey,
    );
    const matched = ascending ? newest.reverse() : newest;
    let items: GhlContact[];
    if (searchAfter !== undefined) {
      const cursor: SortKey = searchAfter;
      const rest = ascending
        ? matched.filter((c) => compareKeys(contactKey(c), cursor) < 0)
        : after(matched, contactKey, cursor);
      items = rest.slice(0, pageLimit);
    } else {
      const p = page ?? 1;
      if (p * pageLimit > CONTACTS_PAGE_REACH)
        return fail(400, `page reaches only the first ${CONTACTS_PAGE_REACH} records: use searchAfter`);
      items = matched.slice((p - 1) * pageLimit, p * pageLimit);
    }
    return json(200, {
      contacts: items.map((c) => ({ ...c, searchAfter: contactKey(c) })),
      total: matched.length,
    });
  });

  emulator.route('POST', '/contacts/upsert', (req) => {
    const body = check(upsertDto, req.body);
    if (!body.ok) return body.res;
    const { locationId: asked, gender: _gender, ...fields } = body.data;
    const denied = location(asked, 'locationId');
    if (denied !== undefined) return denied;
    if (fields.tags !== undefined) fields.tags = fields.tags.map((t) => t.toLowerCase());
    // Email first, then phone: the default order of the duplicate-contact setting.
    const email = fields.email?.toLowerCase();
    const phone = digitsOf(fields.phone);
    const existing =
      (email === undefined ? undefined : ghl.contacts.find((c) => c.email?.toLowerCase() === email)) ??
      (phone === '' ? undefined : ghl.contacts.find((c) => digitsOf(c.phone) === phone));
    if (existing !== undefined) {
      Object.assign(existing, fields, { dateUpdated: stamp() });
      return json(200, { new: false, contact: existing, traceId: `trace-${existing.id}` });
    }
    const now = stamp();
    const contact: GhlContact = {
      ...fields,
      id: newId('ct', (id) => contactById(id) !== undefined),
      locationId,
      tags: fields.tags ?? [],
      type: 'lead',
      dateAdded: now,
      dateUpdated: now,
    };
    ghl.contacts.push(contact);
    return json(200, { new: true, contact, traceId: `trace-${contact.id}` });
  });

  emulator.route('GET', '/contacts/:id', (req) => {
    const contact = contactById(req.params.id ?? '');
    return contact === undefined ? notFound('Contact') : json(200, { contact });
  });

  emulator.route('PUT', '/contacts/:id', (req) => {
    const contact = contactById(req.params.id ?? '');
    if (contact === undefined) return notFound('Contact');
    const body = check(updateDto, req.body);
    if (!body.ok) return body.res;
    const fields = body.data;
    if (fields.tags !== undefined) fields.tags = fields.tags.map((t) => t.toLowerCase());
    Object.assign(contact, fields, { dateUpdated: stamp() });
    return json(200, { succeded: true, contact });
  });

  const tagsRoute = (method: 'POST' | 'DELETE') => (req: EmulatedRequest) => {
    const contact = contactById(req.params.id ?? '');
    if (contact === undefined) return notFound('Contact');
    const body = check(tagsDto, req.body);
    if (!body.ok) return body.res;
    const given = body.data.tags.map((t) => t.toLowerCase());
    contact.tags =
      method === 'POST'
        ? [...contact.tags, ...given.filter((t) => !contact.tags.includes(t))]
        : contact.tags.filter((t) => !given.includes(t));
    contact.dateUpdated = stamp();
    return json(method === 'POST' ? 201 : 200, { tags: contact.tags });
  };
  emulator.route('POST', '/contacts/:id/tags', tagsRoute('POST'));
  emulator.route('DELETE', '/contacts/:id/tags', tagsRoute('DELETE'));

  emulator.route('POST', '/contacts/:id/notes', (req) => {
    const contact = contactById(req.params.id ?? '');
    if (contact === undefined) return notFound('Contact');
    const body = check(noteDto, req.body);
    if (!body.ok) return body.res;
    const note = {
      id: newId('nt', (id) => ghl.notes.some((n) => n.id === id)),
      body: body.data.body,
      userId: body.data.userId ?? null,
      dateAdded: stamp(),
      contactId: contact.id,
    };
    ghl.notes.push(note);
    return json(201, { note });
  });

  emulator.route('POST', '/contacts/:id/tasks', (req) => {
    const contact = contactById(req.params.id ?? '');
    if (contact === undefined) return notFound('Contact');
    const body = check(taskDto, req.body);
    if (!body.ok) return body.res;
    const task = {
      id: newId('tk', (id) => ghl.tasks.some((t) => t.id === id)),
      title: body.data.title,
      body: body.data.body ?? null,
      assignedTo: body.data.assignedTo ?? null,
      dueDate: new Date(body.data.dueDate).toISOString(),
      completed: body.data.completed,
      contactId: contact.id,
    };
    ghl.tasks.push(task);
    return json(201, { task });
  });

  // Opportunities

  emulator.route('GET', '/opportunities/search', (req) => {
    const q = req.query;
    const denied = location(q.get('location_id'), 'location_id');
    if (denied !== undefined) return denied;
    const limit = limitOf(q, 20, OPPORTUNITIES_LIMIT_MAX);
    if (!limit.ok) return limit.res;
    const status = q.get('status') ?? undefined;
    if (status !== undefined && status !== 'all' && !opportunityStatus.safeParse(status).success)
      return unprocessable(['status must be one of the following values: open, won, lost, abandoned, all']);
    const matched = newestFirst(
      ghl.opportunities.map(withContact).filter((o) =>
        opportunityMatches(o, {
          pipelineId: q.get('pipeline_id') ?? undefined,
          pipelineStageId: q.get('pipeline_stage_id') ?? undefined,
          contactId: q.get('contact_id') ?? undefined,
          status,
          q: q.get('q') ?? undefined,
        }),
      ),
      opportunityKey,
    );
    const startAfter = q.get('startAfter');
    const startAfterId = q.get('startAfterId');
    const cursor: SortKey | undefined =
      startAfter !== null && startAfterId !== null ? [Number(startAfter), startAfterId] : undefined;
    const rest = after(matched, opportunityKey, cursor);
    const items = rest.slice(0, limit.data);
    const last = items.at(-1);
    const currentPage = Math.floor((matched.length - rest.length) / limit.data) + 1;
    const more = rest.length > items.length;
    const lastKey = last === undefined ? undefined : opportunityKey(last);
    let nextPageUrl: string | null = null;
    if (more && lastKey !== undefined) {
      const next = new URL(`http://${req.headers.get('host') ?? 'services.leadconnectorhq.com'}/opportunities/search`);
      for (const [k, v] of q)
        if (k !== 'startAfter' && k !== 'startAfterId' && k !== 'page') next.searchParams.set(k, v);
      next.searchParams.set('startAfter', String(lastKey[0]));
      next.searchParams.set('startAfterId', lastKey[1]);
      next.searchParams.set('page', String(currentPage + 1));
      nextPageUrl = next.toString();
    }
    return json(200, {
      opportunities: items,
      meta: {
        total: matched.length,
        nextPageUrl,
        startAfterId: lastKey?.[1] ?? null,
        startAfter: lastKey?.[0] ?? null,
        currentPage,
        nextPage: more ? currentPage + 1 : null,
        prevPage: currentPage > 1 ? currentPage - 1 : null,
      },
      aggregations: {},
    });
  });

  emulator.route('GET', '/opportunities/pipelines', (req) => {
    const denied = location(req.query.get('locationId'), 'locationId');
    if (denied !== undefined) return denied;
    return json(200, { pipelines: ghl.pipelines.map((p) => ({ ...p, locationId })) });
  });

  // After the search and pipelines routes, which it would otherwise take.
  emulator.route('GET', '/opportunities/:id', (req) => {
    const opportunity = ghl.opportunities.find((o) => o.id === req.params.id);
    return opportunity === undefined ? notFound('Opportunity') : json(200, { opportunity: withContact(opportunity) });
  });

  emulator.route('PUT', '/opportunities/:id', (req) => {
    const opportunity = ghl.opportunities.find((o) => o.id === req.params.id);
    if (opportunity === undefined) return notFound('Opportunity');
    const body = check(updateOpportunityDto, req.body);
    if (!body.ok) return body.res;
    const change = body.data;
    const pipelineId = change.pipelineId ?? opportunity.pipelineId;
    const pipeline = ghl.pipelines.find((p) => p.id === pipelineId);
    if (pipeline === undefined) return unprocessable(['pipelineId is not a pipeline of this location']);
    const stageId =
      change.pipelineStageId ?? (change.pipelineId === undefined ? opportunity.pipelineStageId : undefined);
    if (stageId === undefined || !pipeline.stages.some((s) => s.id === stageId))
      return unprocessable(['pipelineStageId is not a stage of the pipeline']);
    const now = stamp();
    if (stageId !== opportunity.pipelineStageId) opportunity.lastStageChangeAt = now;
    if (change.status !== undefined && change.status !== opportunity.status) opportunity.lastStatusChangeAt = now;
    Object.assign(opportunity, change, { pipelineId, pipelineStageId: stageId, updatedAt: now });
    return json(200, { opportunity: withContact(opportunity) });
  });

  // Conversations

  emulator.route('GET', '/conversations/search', (req) => {
    const q = req.query;
    const denied = location(q.get('locationId'), 'locationId');
    if (denied !== undefined) return denied;
    const limit = limitOf(q, 20);
    if (!limit.ok) return limit.res;
    const status = q.get('status') ?? undefined;
    if (status !== undefined && !['all', 'read', 'unread', 'starred', 'recents'].includes(status))
      return unprocessable(['status must be one of the following values: all, read, unread, starred, recents']);
    const rawAfter = q.get('startAfterDate');
    const startAfterDate = rawAfter === null ? undefined : Number(rawAfter);
    if (startAfterDate !== undefined && !Number.isFinite(startAfterDate))
      return unprocessable(['startAfterDate must be a number']);
    const ascending = q.get('sort') === 'asc';
    const newest = newestFirst(
      ghl.conversations.filter((c) =>
        conversationMatches(c, {
          contactId: q.get('contactId') ?? undefined,
          query: q.get('query') ?? undefined,
          status,
        }),
      ),
      conversationKey,
    );
    if (options.conversationTies === 'asc')
      newest.sort(
        (a, b) => (b.lastMessageDate ?? 0) - (a.lastMessageDate ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
    const sorted = ascending ? newest.reverse() : newest;
    // startAfterDate is the sort value of the last conversation seen: its last message's time.
    const rest =
      startAfterDate === undefined
        ? sorted
        : sorted.filter((c) =>
            ascending ? (c.lastMessageDate ?? 0) > startAfterDate : (c.lastMessageDate ?? 0) < startAfterDate,
          );
    return json(200, { conversations: rest.slice(0, limit.data), total: sorted.length });
  });

  emulator.route('GET', '/conversations/:conversationId/messages', (req) => {
    const id = req.params.conversationId ?? '';
    if (!ghl.conversations.some((c) => c.id === id)) return notFound('Conversation');
    const limit = limitOf(req.query, 20);
    if (!limit.ok) return limit.res;
    const types = req.query.get('type')?.split(',').filter(Boolean);
    const newest = [...(ghl.messages.get(id) ?? [])]
      .reverse()
      .filter((m) => types === undefined || types.includes(m.messageType ?? ''));
    const cursor = req.query.get('lastMessageId');
    let start = 0;
    if (cursor !== null) {
      const at = newest.findIndex((m) => m.id === cursor);
      if (at < 0) return fail(400, 'lastMessageId is not a message of this conversation');
      start = at + 1;
    }
    const messages = newest.slice(start, start + limit.data);
    // Shape A, the nested one of the current spec and of the live API as users report it.
    return json(200, {
      messages: {
        lastMessageId: messages.at(-1)?.id ?? null,
        nextPage: start + messages.length < newest.length,
        messages,
      },
    });
  });

  emulator.route('POST', '/conversations/messages', (req) => {
    const body = check(sendDto, req.body);
    if (!body.ok) return body.res;
    const send = body.data;
    const contact = contactById(send.contactId);
    if (contact === undefined) return notFound('Contact');
    if (
      (send.message === undefined || send.message === '') &&
      (send.html === undefined || send.html === '') &&
      (send.attachments ?? []).length === 0
    )
      return unprocessable(['message, html or attachments should not be empty']);
    if ((send.type === 'SMS' || send.type === 'WhatsApp') && digitsOf(contact.phone) === '')
      return fail(400, 'The contact has no phone number');
    if (send.type === 'Email' && (contact.email ?? '') === '') return fail(400, 'The contact has no email address');
    const now = new Date(clock());
    const messageType = send.type === 'Email' ? 'TYPE_EMAIL' : `TYPE_${send.type.toUpperCase()}`;
    let conversation = ghl.conversations.find((c) => c.contactId === contact.id);
    if (conversation === undefined) {
      conversation = {
        id: newId('cv', (cid) => ghl.conversations.some((c) => c.id === cid)),
        contactId: contact.id,
        locationId,
        type: send.type === 'Email' ? 'TYPE_EMAIL' : 'TYPE_PHONE',
        unreadCount: 0,
        fullName: [contact.firstName, contact.lastName].filter(Boolean).join(' ') || contact.name || null,
        email: contact.email ?? null,
        phone: contact.phone ?? null,
      } satisfies GhlConversation;
      ghl.conversations.push(conversation);
    }
    const message: GhlMessage = {
      id: newId('ms', (mid) => [...ghl.messages.values()].some((list) => list.some((m) => m.id === mid))),
      messageType,
      conversationId: conversation.id,
      contactId: contact.id,
      locationId,
      dateAdded: now.toISOString(),
      body: send.message ?? send.html ?? '',
      direction: 'outbound',
      status: 'pending',
    };
    if (send.type === 'SMS') message.type = 2;
    if (send.type === 'Email') message.type = 3;
    const list = ghl.messages.get(conversation.id) ?? [];
    list.push(message);
    ghl.messages.set(conversation.id, list);
    Object.assign(conversation, {
      lastMessageBody: message.body,
      lastMessageType: messageType,
      lastMessageDate: now.getTime(),
      lastMessageDirection: 'outbound',
    });
    return json(200, {
      conversationId: conversation.id,
      messageId: message.id,
      ...(send.type === 'Email' ? { emailMessageId: `em${message.id}` } : {}),
      msg: 'Message queued successfully.',
    });
  });

  // Calendars

  emulator.route('GET', '/calendars', (req) => {
    const denied = location(req.query.get('locationId'), 'locationId');
    if (denied !== undefined) return denied;
    return json(200, { calendars: ghl.calendars.map((c) => ({ ...c, locationId })) });
  });

  emulator.route('GET', '/calendars/events', (req) => {
    const q = req.query;
    const denied = location(q.get('locationId'), 'locationId');
    if (denied !== undefined) return denied;
    const start = Number(q.get('startTime') ?? Number.NaN);
    const end = Number(q.get('endTime') ?? Number.NaN);
    const problems: string[] = [];
    if (!Number.isFinite(start)) problems.push('startTime must be a number string (epoch milliseconds)');
    if (!Number.isFinite(end)) problems.push('endTime must be a number string (epoch milliseconds)');
    const calendarId = q.get('calendarId');
    const userId = q.get('userId');
    const groupId = q.get('groupId');
    if (calendarId === null && userId === null && groupId === null)
      problems.push('one of calendarId, userId or groupId is required');
    if (problems.length > 0) return unprocessable(problems);
    if (calendarId !== null && !ghl.calendars.some((c) => c.id === calendarId)) return notFound('Calendar');
    const events = ghl.events
      .filter((e) => calendarId === null || e.calendarId === calendarId)
      .filter((e) => userId === null || e.assignedUserId === userId)
      .filter((e) => groupId === null || (e as { groupId?: unknown }).groupId === groupId)
      .filter((e) => {
        const at = Date.parse(e.startTime);
        return at >= start && at <= end;
      })
      .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
    return json(200, { events });
  });

  return emulator;
}
