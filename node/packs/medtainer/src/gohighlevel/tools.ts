import type { CallContext } from '@brainmesh/node';
import { defineTool, type ToolDefinition, textResult } from '@brainmesh/node';
import { changes, confirmChange, confirmField, type DataSource, defined, READ_ONLY, reply } from '@brainmesh/node/kit';
import { z } from 'zod';
import type { CachedKinds, GhlCache, SyncKind } from '../cache/cache.js';
import type { Mode } from '../connections.js';
import { CONTACTS_PAGE_REACH, type GoHighLevelApi } from './client.js';
import {
  after,
  contactKey,
  contactMatches,
  contactName,
  conversationKey,
  conversationMatches,
  newestFirst,
  opportunityKey,
  opportunityMatches,
  type SortKey,
} from './match.js';
import {
  type GhlContact,
  type GhlConversation,
  type GhlEvent,
  type GhlMessage,
  type GhlOpportunity,
  type GhlPipeline,
  ghlId as id,
} from './wire.js';

/**
 * The CRM as tools: contacts, opportunities, conversations and appointments in GoHighLevel. Reads
 * answer from the sync cache when it holds a fresh copy, and say so; every change is confirmed by
 * the user before anything is sent, and is described to them in words.
 */

export interface GoHighLevelDeps {
  api: GoHighLevelApi;
  mode: Mode;
  cache: GhlCache | null;
}

const DAY_MS = 86_400_000;
/** The longest message send_message takes: the user is shown all of it before it is sent. */
const MESSAGE_MAX = 2_000;

const tagList = z.array(z.string().trim().min(1).max(100)).min(1).max(20);
const limit = (fallback: number, max: number) =>
  z.number().int().min(1).max(max).default(fallback).describe(`How many to return (1–${max}, default ${fallback})`);

/** Drops empty fields, so an answer carries what is known and nothing else. */
function compact(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

function cut(text: string | null | undefined, max: number): string | undefined {
  if (typeof text !== 'string') return undefined;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function contactSummary(c: GhlContact): Record<string, unknown> {
  return compact({
    id: c.id,
    name: contactName(c),
    email: c.email,
    phone: c.phone,
    companyName: c.companyName,
    tags: c.tags,
    type: c.type,
    source: c.source,
    dateAdded: c.dateAdded,
  });
}

function contactDetail(c: GhlContact): Record<string, unknown> {
  const more = c as Record<string, unknown>;
  const pick = (key: string) =>
    typeof more[key] === 'string' || typeof more[key] === 'boolean' ? more[key] : undefined;
  return compact({
    ...contactSummary(c),
    firstName: c.firstName,
    lastName: c.lastName,
    address1: pick('address1'),
    city: pick('city'),
    state: pick('state'),
    postalCode: pick('postalCode'),
    country: pick('country'),
    website: pick('website'),
    timezone: pick('timezone'),
    dnd: c.dnd,
    assignedTo: c.assignedTo,
    dateUpdated: c.dateUpdated,
  });
}

function opportunitySummary(o: GhlOpportunity): Record<string, unknown> {
  const contact = (o as { contact?: { name?: unknown } }).contact;
  return compact({
    id: o.id,
    name: o.name,
    status: o.status,
    monetaryValue: o.monetaryValue,
    pipelineId: o.pipelineId,
    pipelineStageId: o.pipelineStageId,
    contactId: o.contactId,
    contactName: typeof contact?.name === 'string' ? contact.name : undefined,
    assignedTo: o.assignedTo,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    lastStageChangeAt: o.lastStageChangeAt,
  });
}

function pipelineSummary(p: GhlPipeline): Record<string, unknown> {
  return { id: p.id, name: p.name, stages: p.stages.map((s) => ({ id: s.id, name: s.name })) };
}

function conversationSummary(c: GhlConversation): Record<string, unknown> {
  const contactNameField = (c as { contactName?: unknown }).contactName;
  return compact({
    id: c.id,
    contactId: c.contactId,
    name: c.fullName ?? (typeof contactNameField === 'string' ? contactNameField : undefined),
    email: c.email,
    phone: c.phone,
    lastMessage: cut(c.lastMessageBody, 200),
    lastMessageType: c.lastMessageType,
    lastMessageDirection: c.lastMessageDirection,
    lastMessageAt: typeof c.lastMessageDate === 'number' ? new Date(c.lastMessageDate).toISOString() : undefined,
    unreadCount: c.unreadCount,
  });
}

function messageSummary(m: GhlMessage): Record<string, unknown> {
  return compact({
    id: m.id,
    direction: m.direction,
    type: m.messageType,
    status: m.status,
    dateAdded: m.dateAdded,
    body: cut(m.body, 2_000),
  });
}

function eventSummary(e: GhlEvent, calendars: Map<string, string>): Record<string, unknown> {
  return compact({
    id: e.id,
    title: e.title,
    calendarId: e.calendarId,
    calendarName: calendars.get(e.calendarId),
    contactId: e.contactId,
    status: e.appointmentStatus,
    startTime: e.startTime,
    endTime: e.endTime,
    assignedUserId: e.assignedUserId,
  });
}

/** A contact as a person would recognise it in a confirmation: "Jane Doe (jane@example.com)". */
function who(c: GhlContact): string {
  const name = contactName(c) || 'the contact';
  const reach = c.email ?? c.phone;
  return reach ? `${name} (${reach})` : `${name} (${c.id})`;
}

/** A cursor of the sort key of the last item given: its time in epoch ms, then its id. */
const KEY_CURSOR = /^(\d+):([\w.-]+)$/;
const keyCursor = z
  .string()
  .max(130)
  .regex(KEY_CURSOR, 'the `next` of a previous answer')
  .optional()
  .describe('Where to go on from: the `next` of a previous answer');
const readCursor = (cursor: string | undefined): SortKey | undefined => {
  const at = cursor === undefined ? undefined : KEY_CURSOR.exec(cursor);
  return at ? [Number(at[1]), at[2] as string] : undefined;
};

export function goHighLevelTools(deps: GoHighLevelDeps): ToolDefinition[] {
  const { api } = deps;
  const live: DataSource = { source: deps.mode };

  /** The cached copy of a kind, when there is a fresh one. */
  const cached = async <K extends SyncKind>(
    kind: K,
  ): Promise<{ from: DataSource; items: CachedKinds[K] } | undefined> => {
    if (deps.cache === null) return undefined;
    const copy = await deps.cache.read(kind);
    return copy === undefined
      ? undefined
      : { from: { source: 'cached', syncedAt: copy.syncedAt, ageMs: copy.ageMs }, items: copy.items };
  };

  const confirmOr = async (ctx: CallContext, confirm: boolean | undefined, what: string) => {
    const answer = await confirmChange(ctx, confirm, what);
    return answer.ok ? undefined : textResult(answer.reason, true);
  };

  /** add_tags and remove_tags: the same call but for its verb. */
  const tagsTool = (verb: 'add' | 'remove') =>
    defineTool({
      name: `gohighlevel.${verb}_tags`,
      title: verb === 'add' ? 'Tag a CRM contact' : 'Untag a CRM contact',
      description:
        verb === 'add'
          ? 'Adds tags to a GoHighLevel contact, keeping the ones it has. Answers with its tags after.'
          : 'Removes tags from a GoHighLevel contact. Answers with its tags after.',
      input: z.object({
        contactId: id('contact'),
        tags: tagList.describe(verb === 'add' ? 'Tags to add' : 'Tags to remove'),
        confirm: confirmField,
      }),
      annotations: changes(true),
      handler: async ({ contactId, tags, confirm }, ctx) => {
        const contact = await api.getContact(contactId, ctx.signal);
        const what =
          verb === 'add'
            ? `add the tags ${tags.join(', ')} to ${who(contact)}`
            : `remove the tags ${tags.join(', ')} from ${who(contact)}`;
        const refused = await confirmOr(ctx, confirm, what);
        if (refused !== undefined) return refused;
        const now =
          verb === 'add'
            ? await api.addTags(contactId, tags, ctx.signal)
            : await api.removeTags(contactId, tags, ctx.signal);
        // The contact's tags after, worked out here: the service's answer is not documented to be
        // the whole set. GoHighLevel keeps tags lower-case.
        const given = tags.map((t) => t.toLowerCase());
        const after =
          verb === 'add'
            ? [...new Set([...contact.tags, ...given])]
            : contact.tags.filter((t) => !given.includes(t.toLowerCase()));
        await deps.cache?.remember('contacts', { ...contact, tags: after });
        return reply(ctx, live, { contactId, ...(verb === 'add' ? { added: tags } : { removed: tags }), tags: now });
      },
    });

  return [
    defineTool({
      name: 'gohighlevel.search_contacts',
      title: 'Search CRM contacts',
      description:
        'Finds contacts in the GoHighLevel CRM by free text (name, email, phone, company) and/or tags, newest first. ' +
        "Pages with `page`: pass the answer's `next` to get the following page.",
      input: z.object({
        query: z
          .string()
          .trim()
          .min(1)
          .max(75)
          .optional()
          .describe('Free text: part of a name, email, phone or company'),
        tags: tagList.optional().describe('Only contacts that have every one of these tags'),
        limit: limit(20, 100),
        page: z
          .number()
          .int()
          .min(1)
          .max(CONTACTS_PAGE_REACH)
          .default(1)
          .describe('Page number: the `next` of a previous answer'),
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        if (args.page * args.limit > CONTACTS_PAGE_REACH)
          return textResult(
            `Search reaches the first ${CONTACTS_PAGE_REACH} contacts only: narrow it with query or tags.`,
            true,
          );
        const copy = await cached('contacts');
        let contacts: GhlContact[];
        let total: number;
        let from = live;
        if (copy !== undefined) {
          const matched = newestFirst(
            copy.items.filter((c) => contactMatches(c, args)),
            contactKey,
          );
          contacts = matched.slice((args.page - 1) * args.limit, args.page * args.limit);
          total = matched.length;
          from = copy.from;
        } else {
          ({ contacts, total } = await api.searchContacts(
            { query: args.query, tags: args.tags, page: args.page, pageLimit: args.limit },
            ctx.signal,
          ));
        }
        const more = args.page * args.limit < total && args.page * args.limit < CONTACTS_PAGE_REACH;
        return reply(ctx, from, {
          total,
          page: args.page,
          count: contacts.length,
          contacts: contacts.map(contactSummary),
          ...(more ? { next: args.page + 1 } : {}),
        });
      },
    }),

    defineTool({
      name: 'gohighlevel.get_contact',
      title: 'Get a CRM contact',
      description: 'One contact of the GoHighLevel CRM with its details (address, tags, owner, dates).',
      input: z.object({ contactId: id('contact') }),
      annotations: READ_ONLY,
      handler: async ({ contactId }, ctx) => {
        const copy = await cached('contacts');
        const hit = copy?.items.find((c) => c.id === contactId);
        // A contact missing from the copy may be newer than it: the service has the last word.
        if (copy !== undefined && hit !== undefined) return reply(ctx, copy.from, { contact: contactDetail(hit) });
        const contact = await api.getContact(contactId, ctx.signal);
        return reply(ctx, live, { contact: contactDetail(contact) });
      },
    }),

    defineTool({
      name: 'gohighlevel.create_contact',
      title: 'Create a CRM contact',
      description:
        'Creates a contact in the GoHighLevel CRM, or updates an existing one: GoHighLevel matches it by email, then ' +
        'phone, unless the location\'s "Allow Duplicate Contact" setting allows duplicates, in which case a new contact ' +
        'may be made each time. Tags given are added to any the contact already has. Needs an email or a phone.',
      input: z.object({
        firstName: z.string().trim().min(1).max(100).optional().describe('First name'),
        lastName: z.string().trim().min(1).max(100).optional().describe('Last name'),
        email: z.email().max(254).optional().describe('Email address; the first thing a duplicate is matched by'),
        phone: z.string().trim().min(4).max(32).optional().describe('Phone, ideally in E.164 (+15550102233)'),
        companyName: z.string().trim().min(1).max(200).optional().describe('Company or practice name'),
        source: z
          .string()
          .trim()
          .min(1)
          .max(100)
          .optional()
          .describe('Where the contact came from (e.g. "phone call")'),
        tags: tagList.optional().describe('Tags to add to the contact'),
        confirm: confirmField,
      }),
      annotations: changes(true),
      handler: async (args, ctx) => {
        const { confirm, tags, ...fields } = args;
        if (fields.email === undefined && fields.phone === undefined)
          return textResult('Give an email or a phone: the CRM matches duplicates by them. Nothing was changed.', true);
        const name = [fields.firstName, fields.lastName].filter(Boolean).join(' ') || 'a contact';
        const refused = await confirmOr(
          ctx,
          confirm,
          `create or update ${name} (${fields.email ?? fields.phone}) in GoHighLevel${tags ? ` with the tags ${tags.join(', ')}` : ''}`,
        );
        if (refused !== undefined) return refused;
        // Tags go through the tags endpoint: on upsert they would replace the contact's own.
        const result = await api.upsertContact(fields, ctx.signal);
        const contact = result.contact;
        if (tags !== undefined) contact.tags = await api.addTags(contact.id, tags, ctx.signal);
        await deps.cache?.remember('contacts', contact);
        return reply(ctx, live, { new: result.new, contact: contactSummary(contact) });
      },
    }),

    defineTool({
      name: 'gohighlevel.update_contact',
      title: 'Update a CRM contact',
      description:
        'Changes fields of a GoHighLevel contact (only those given). Tags have their own tools; the company name is set ' +
        'with create_contact, as the update endpoint does not take it.',
      input: z.object({
        contactId: id('contact'),
        firstName: z.string().trim().min(1).max(100).optional().describe('First name'),
        lastName: z.string().trim().min(1).max(100).optional().describe('Last name'),
        email: z.email().max(254).optional().describe('Email address'),
        phone: z.string().trim().min(4).max(32).optional().describe('Phone, ideally in E.164'),
        address1: z.string().trim().max(200).optional().describe('Street address'),
        city: z.string().trim().max(100).optional().describe('City'),
        state: z.string().trim().max(100).optional().describe('State or region'),
        postalCode: z.string().trim().max(20).optional().describe('Postal code'),
        country: z.string().trim().max(2).optional().describe('Country, two letters (US)'),
        website: z.url().max(500).optional().describe('Website'),
        dnd: z.boolean().optional().describe('Do not disturb: no messages to this contact on any channel'),
        source: z.string().trim().max(100).optional().describe('Where the contact came from'),
        confirm: confirmField,
      }),
      annotations: changes(true),
      handler: async (args, ctx) => {
        const { contactId, confirm, ...rest } = args;
        const fields = defined(rest);
        const names = Object.keys(fields);
        if (names.length === 0)
          return textResult('Nothing to change: give at least one field. Nothing was changed.', true);
        const contact = await api.getContact(contactId, ctx.signal);
        const refused = await confirmOr(ctx, confirm, `change ${names.join(', ')} of ${who(contact)} in GoHighLevel`);
        if (refused !== undefined) return refused;
        const updated = await api.updateContact(contactId, fields, ctx.signal);
        await deps.cache?.remember('contacts', updated);
        return reply(ctx, live, { updated: names, contact: contactDetail(updated) });
      },
    }),

    tagsTool('add'),
    tagsTool('remove'),

    defineTool({
      name: 'gohighlevel.add_note',
      title: 'Add a note to a CRM contact',
      description:
        'Adds a note to a GoHighLevel contact. Sent once and never retried: if it fails, check the contact before trying again.',
      input: z.object({
        contactId: id('contact'),
        body: z.string().trim().min(1).max(5_000).describe('The note'),
        confirm: confirmField,
      }),
      annotations: changes(false),
      handler: async ({ contactId, body, confirm }, ctx) => {
        const contact = await api.getContact(contactId, ctx.signal);
        const refused = await confirmOr(ctx, confirm, `add a note to ${who(contact)}: "${cut(body, 80)}"`);
        if (refused !== undefined) return refused;
        const note = await api.addNote(contactId, body, ctx.signal);
        return reply(ctx, live, {
          note: compact({ id: note.id, contactId: note.contactId, dateAdded: note.dateAdded }),
        });
      },
    }),

    defineTool({
      name: 'gohighlevel.create_task',
      title: 'Create a follow-up task',
      description:
        'Creates a task on a GoHighLevel contact (a call back, a follow-up). Sent once and never retried: if it fails, ' +
        'check the contact before trying again.',
      input: z.object({
        contactId: id('contact'),
        title: z.string().trim().min(1).max(200).describe('What is to be done'),
        dueDate: z.iso.datetime({ offset: true }).describe('When it is due, ISO 8601 (2025-03-01T15:00:00Z)'),
        body: z.string().trim().max(5_000).optional().describe('Details'),
        assignedTo: z.string().trim().min(1).max(100).optional().describe('The id of the user it is for'),
        confirm: confirmField,
      }),
      annotations: changes(false),
      handler: async ({ contactId, confirm, ...task }, ctx) => {
        const contact = await api.getContact(contactId, ctx.signal);
        const refused = await confirmOr(
          ctx,
          confirm,
          `create the task "${cut(task.title, 80)}" due ${task.dueDate} for ${who(contact)}`,
        );
        if (refused !== undefined) return refused;
        const created = await api.createTask(contactId, task, ctx.signal);
        return reply(ctx, live, {
          task: compact({
            id: created.id,
            title: created.title,
            dueDate: created.dueDate,
            completed: created.completed,
            contactId: created.contactId,
            assignedTo: created.assignedTo,
          }),
        });
      },
    }),

    defineTool({
      name: 'gohighlevel.search_opportunities',
      title: 'Search sales opportunities',
      description:
        'Finds opportunities (deals) in GoHighLevel by pipeline, stage, status, contact or name, newest first. ' +
        "Stage and pipeline ids come from list_pipelines. Pages with `cursor`: pass the answer's `next`.",
      input: z.object({
        pipelineId: id('pipeline').optional(),
        stageId: id('pipeline stage').optional(),
        status: z
          .enum(['open', 'won', 'lost', 'abandoned', 'all'])
          .optional()
          .describe('Only this status (default: all)'),
        contactId: id('contact').optional(),
        query: z
          .string()
          .trim()
          .min(1)
          .max(100)
          .optional()
          .describe("Free text: part of the opportunity's or contact's name"),
        limit: limit(20, 100),
        cursor: keyCursor,
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        const at = readCursor(args.cursor);
        const cursor = at && { startAfter: String(at[0]), startAfterId: at[1] };
        const filter = {
          pipelineId: args.pipelineId,
          pipelineStageId: args.stageId,
          status: args.status,
          contactId: args.contactId,
          q: args.query,
        };
        const copy = await cached('opportunities');
        if (copy !== undefined) {
          const matched = newestFirst(
            copy.items.filter((o) => opportunityMatches(o, filter)),
            opportunityKey,
          );
          const rest = after(matched, opportunityKey, at);
          const page = rest.slice(0, args.limit);
          const last = page.at(-1);
          const next = rest.length > page.length && last !== undefined ? opportunityKey(last).join(':') : undefined;
          return reply(ctx, copy.from, opportunitiesAnswer(page, matched.length, next));
        }
        const res = await api.searchOpportunities({ ...filter, limit: args.limit, ...cursor }, ctx.signal);
        const next = res.next === undefined ? undefined : `${res.next.startAfter}:${res.next.startAfterId}`;
        return reply(ctx, live, opportunitiesAnswer(res.opportunities, res.total, next));
      },
    }),

    defineTool({
      name: 'gohighlevel.list_pipelines',
      title: 'List sales pipelines',
      description: 'The sales pipelines of GoHighLevel with their stages, in order: the ids opportunities refer to.',
      input: z.object({}),
      annotations: READ_ONLY,
      handler: async (_args, ctx) => {
        const copy = await cached('pipelines');
        const pipelines = copy?.items ?? (await api.listPipelines(ctx.signal));
        return reply(ctx, copy?.from ?? live, { count: pipelines.length, pipelines: pipelines.map(pipelineSummary) });
      },
    }),

    defineTool({
      name: 'gohighlevel.update_opportunity',
      title: 'Update a sales opportunity',
      description:
        'Moves a GoHighLevel opportunity to another stage of its own pipeline, sets its status (won, lost…) or its ' +
        'value. Stage ids come from list_pipelines; a stage of another pipeline is refused.',
      input: z.object({
        opportunityId: id('opportunity'),
        stageId: id('pipeline stage').optional().describe("The stage to move it to, in the opportunity's pipeline"),
        status: z.enum(['open', 'won', 'lost', 'abandoned']).optional().describe('Its new status'),
        monetaryValue: z
          .number()
          .min(0)
          .max(1_000_000_000)
          .optional()
          .describe('Its new value, in the account currency'),
        confirm: confirmField,
      }),
      annotations: changes(true),
      handler: async ({ opportunityId, stageId, status, monetaryValue, confirm }, ctx) => {
        if (stageId === undefined && status === undefined && monetaryValue === undefined)
          return textResult('Nothing to change: give stageId, status or monetaryValue. Nothing was changed.', true);
        // Read first: the stage must be of its own pipeline, and the user is shown which deal it is.
        const opportunity = await api.getOpportunity(opportunityId, ctx.signal);
        const ofIt = (pipelines: GhlPipeline[]) => pipelines.find((p) => p.id === opportunity.pipelineId);
        let pipeline = ofIt((await cached('pipelines'))?.items ?? []);
        // A pipeline or stage newer than the cached copy is looked for live.
        if (pipeline === undefined || (stageId !== undefined && !pipeline.stages.some((st) => st.id === stageId)))
          pipeline = ofIt(await api.listPipelines(ctx.signal));
        const stageName = (sid: string) => pipeline?.stages.find((st) => st.id === sid)?.name;
        const changes: string[] = [];
        if (stageId !== undefined) {
          const stage = stageName(stageId);
          if (stage === undefined)
            return textResult(
              `The stage ${stageId} is not a stage of the pipeline of "${opportunity.name}", ` +
                `${pipeline === undefined ? opportunity.pipelineId : `"${pipeline.name}" (${pipeline.id})`}: ` +
                'list_pipelines gives its stages. Nothing was changed.',
              true,
            );
          changes.push(`move it to the stage "${stage}"`);
        }
        if (status !== undefined) changes.push(`mark it ${status}`);
        if (monetaryValue !== undefined) changes.push(`set its value to ${monetaryValue}`);
        const now = stageName(opportunity.pipelineStageId) ?? opportunity.pipelineStageId;
        const where = pipeline === undefined ? '' : ` of "${pipeline.name}"`;
        const refused = await confirmOr(
          ctx,
          confirm,
          `update the opportunity "${cut(opportunity.name, 120)}" (${opportunityId}), now at the stage "${now}"${where} ` +
            `and ${opportunity.status}: ${changes.join(', ')}`,
        );
        if (refused !== undefined) return refused;
        const updated = await api.updateOpportunity(
          opportunityId,
          {
            ...(stageId === undefined ? {} : { pipelineId: opportunity.pipelineId, pipelineStageId: stageId }),
            status,
            monetaryValue,
          },
          ctx.signal,
        );
        await deps.cache?.remember('opportunities', updated);
        return reply(ctx, live, { opportunity: opportunitySummary(updated) });
      },
    }),

    defineTool({
      name: 'gohighlevel.search_conversations',
      title: 'Search conversations',
      description:
        'Finds conversations (SMS, email… threads with contacts) in GoHighLevel, most recent message first: by contact, ' +
        "free text or read status. Pages with `cursor`: pass the answer's `next`.",
      input: z.object({
        contactId: id('contact').optional(),
        query: z.string().trim().min(1).max(100).optional().describe('Free text: name, email, phone or message text'),
        status: z
          .enum(['all', 'read', 'unread', 'starred', 'recents'])
          .optional()
          .describe('Only conversations in this state (default: all)'),
        limit: limit(20, 100),
        cursor: keyCursor,
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        const at = readCursor(args.cursor);
        const copy = await cached('conversations');
        if (copy !== undefined) {
          const matched = newestFirst(
            copy.items.filter((c) => conversationMatches(c, args)),
            conversationKey,
          );
          // By (time, id), as opportunities: conversations sharing a time are neither skipped nor repeated.
          const rest = after(matched, conversationKey, at);
          const page = rest.slice(0, args.limit);
          const last = page.at(-1);
          const next = rest.length > page.length && last !== undefined ? conversationKey(last).join(':') : undefined;
          return reply(ctx, copy.from, conversationsAnswer(page, matched.length, next));
        }
        const res = await api.searchConversations(
          {
            contactId: args.contactId,
            query: args.query,
            status: args.status,
            limit: args.limit,
            after: at && { lastMessageDate: at[0], id: at[1] },
          },
          ctx.signal,
        );
        const next = res.next && `${res.next.lastMessageDate}:${res.next.id}`;
        return reply(ctx, live, conversationsAnswer(res.conversations, res.total, next));
      },
    }),

    defineTool({
      name: 'gohighlevel.get_messages',
      title: 'Read a conversation',
      description:
        'The messages of a GoHighLevel conversation, newest first. Emails come without their body in this list. ' +
        "Pages with `cursor`: pass the answer's `next` for older messages.",
      input: z.object({
        conversationId: id('conversation'),
        limit: limit(20, 100),
        cursor: z
          .string()
          .regex(/^[\w.-]+$/)
          .max(100)
          .optional()
          .describe('Where to go on from: the `next` of a previous answer'),
      }),
      annotations: READ_ONLY,
      handler: async ({ conversationId, limit: max, cursor }, ctx) => {
        const page = await api.getMessages(conversationId, { limit: max, lastMessageId: cursor }, ctx.signal);
        return reply(ctx, live, {
          conversationId,
          count: page.messages.length,
          messages: page.messages.map(messageSummary),
          ...(page.nextPage && page.lastMessageId !== undefined ? { next: page.lastMessageId } : {}),
        });
      },
    }),

    defineTool({
      name: 'gohighlevel.send_message',
      title: 'Send a message to a contact',
      description:
        'Sends an SMS, email or WhatsApp message to a GoHighLevel contact, from the business, as plain text (an ' +
        'email too: its body is `message`). The user is shown the whole text before it goes. Sent once and never ' +
        'retried: if it fails, check the conversation before trying again, or the contact may get it twice.',
      input: z.object({
        contactId: id('contact'),
        type: z.enum(['SMS', 'Email', 'WhatsApp']).describe('The channel'),
        message: z
          .string()
          .trim()
          .min(1)
          .max(MESSAGE_MAX)
          .describe(`The text, up to ${MESSAGE_MAX} characters (SMS: keep it under 320)`),
        subject: z.string().trim().min(1).max(200).optional().describe('Email subject (needed for an email)'),
        confirm: confirmField,
      }),
      annotations: changes(false),
      handler: async ({ contactId, type, message, subject, confirm }, ctx) => {
        if (type === 'Email' && subject === undefined)
          return textResult('An email needs a subject. Nothing was sent.', true);
        const contact = await api.getContact(contactId, ctx.signal);
        const to = type === 'Email' ? contact.email : contact.phone;
        const name = contactName(contact) || contactId;
        if (!to)
          return textResult(`${name} has no ${type === 'Email' ? 'email address' : 'phone'}. Nothing was sent.`, true);
        const channel = type === 'Email' ? 'an email' : type === 'SMS' ? 'an SMS' : 'a WhatsApp message';
        // Exactly what is sent, whole: the schema bounds the text so that it can always be shown.
        const titled = type === 'Email' && subject !== undefined ? ` with the subject "${subject}"` : '';
        const what = `send ${channel} to ${name} (${to})${titled}, reading: "${message}"`;
        const refused = await confirmOr(ctx, confirm, what);
        if (refused !== undefined) return refused;
        const sent = await api.sendMessage(
          { type, contactId, message, subject: type === 'Email' ? subject : undefined },
          ctx.signal,
        );
        return reply(ctx, live, {
          conversationId: sent.conversationId,
          messageId: sent.messageId,
          to,
          status: sent.msg ?? 'sent',
        });
      },
    }),

    defineTool({
      name: 'gohighlevel.list_appointments',
      title: 'List appointments',
      description:
        'Appointments in GoHighLevel calendars that start in a time range (default: from 7 days ago to 30 days ahead), ' +
        'in order. Without a calendar, every calendar is read.',
      input: z.object({
        calendarId: id('calendar').optional().describe('Only this calendar (default: all of them)'),
        from: z.iso
          .datetime({ offset: true })
          .optional()
          .describe('Start of the range, ISO 8601 (default: 7 days ago)'),
        to: z.iso.datetime({ offset: true }).optional().describe('End of the range, ISO 8601 (default: 30 days ahead)'),
        limit: limit(100, 500),
      }),
      annotations: READ_ONLY,
      handler: async (args, ctx) => {
        const now = Date.now();
        const start = new Date(args.from ?? now - 7 * DAY_MS);
        const end = new Date(args.to ?? now + 30 * DAY_MS);
        if (end <= start) return textResult('The range ends before it starts.', true);
        if (end.getTime() - start.getTime() > 366 * DAY_MS)
          return textResult('The range is longer than a year: ask for a shorter one.', true);
        const calendars = await api.listCalendars(ctx.signal);
        const names = new Map(calendars.map((c) => [c.id, c.name]));
        if (args.calendarId !== undefined && !names.has(args.calendarId))
          return textResult(`There is no calendar ${args.calendarId}. Calendars: ${listNames(calendars)}.`, true);
        const ids = args.calendarId === undefined ? calendars.map((c) => c.id) : [args.calendarId];
        const pages = await Promise.all(
          ids.map((calendarId) => api.listEvents({ calendarId, startTime: start, endTime: end }, ctx.signal)),
        );
        const events = pages.flat().sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
        const shown = events.slice(0, args.limit);
        return reply(ctx, live, {
          from: start.toISOString(),
          to: end.toISOString(),
          calendars: ids.length,
          total: events.length,
          count: shown.length,
          appointments: shown.map((e) => eventSummary(e, names)),
          ...(shown.length < events.length ? { truncated: true } : {}),
        });
      },
    }),
  ];
}

function opportunitiesAnswer(items: GhlOpportunity[], total: number | undefined, next: string | undefined) {
  return {
    ...(total === undefined ? {} : { total }),
    count: items.length,
    opportunities: items.map(opportunitySummary),
    ...(next === undefined ? {} : { next }),
  };
}

function conversationsAnswer(items: GhlConversation[], total: number, next: string | undefined) {
  return {
    total,
    count: items.length,
    conversations: items.map(conversationSummary),
    ...(next === undefined ? {} : { next }),
  };
}

function listNames(calendars: { id: string; name: string }[]): string {
  return calendars.map((c) => `${c.name} (${c.id})`).join(', ') || 'none';
}
