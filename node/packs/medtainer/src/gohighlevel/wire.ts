import { z } from 'zod';

/**
 * GoHighLevel API v2 bodies as documented (docs/research/gohighlevel.md), checked where they
 * enter. Loose objects: the service adds fields over time, and those pass through untouched.
 */

export const CONTACTS_VERSION = '2021-07-28';
export const CONVERSATIONS_VERSION = '2021-04-15';

export const ghlContact = z.looseObject({
  id: z.string(),
  locationId: z.string().optional(),
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  name: z.string().nullish(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
  companyName: z.string().nullish(),
  source: z.string().nullish(),
  type: z.string().nullish(),
  tags: z.array(z.string()).default([]),
  dnd: z.boolean().optional(),
  assignedTo: z.string().nullish(),
  dateAdded: z.string(),
  dateUpdated: z.string().optional(),
});
export type GhlContact = z.infer<typeof ghlContact>;

export const ghlStage = z.looseObject({ id: z.string(), name: z.string(), position: z.number().optional() });
export const ghlPipeline = z.looseObject({
  id: z.string(),
  name: z.string(),
  stages: z.array(ghlStage).default([]),
  locationId: z.string().optional(),
});
export type GhlPipeline = z.infer<typeof ghlPipeline>;

export const opportunityStatus = z.enum(['open', 'won', 'lost', 'abandoned']);
export const ghlOpportunity = z.looseObject({
  id: z.string(),
  name: z.string(),
  monetaryValue: z.number().nullish(),
  pipelineId: z.string(),
  pipelineStageId: z.string(),
  assignedTo: z.string().nullish(),
  status: opportunityStatus,
  source: z.string().nullish(),
  contactId: z.string(),
  locationId: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string().optional(),
  lastStatusChangeAt: z.string().nullish(),
  lastStageChangeAt: z.string().nullish(),
});
export type GhlOpportunity = z.infer<typeof ghlOpportunity>;

export const ghlConversation = z.looseObject({
  id: z.string(),
  contactId: z.string(),
  locationId: z.string().optional(),
  lastMessageBody: z.string().nullish(),
  lastMessageType: z.string().nullish(),
  /** Epoch ms. Not in the documented schema, but sent and used as the paging sort value. */
  lastMessageDate: z.number().nullish(),
  lastMessageDirection: z.enum(['inbound', 'outbound']).nullish(),
  type: z.string().nullish(),
  unreadCount: z.number().default(0),
  fullName: z.string().nullish(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
});
export type GhlConversation = z.infer<typeof ghlConversation>;

export const ghlMessage = z.looseObject({
  id: z.string(),
  type: z.number().optional(),
  messageType: z.string().optional(),
  conversationId: z.string(),
  contactId: z.string().optional(),
  dateAdded: z.string(),
  body: z.string().optional(),
  direction: z.enum(['inbound', 'outbound']),
  status: z.string().optional(),
});
export type GhlMessage = z.infer<typeof ghlMessage>;

export const ghlEvent = z.looseObject({
  id: z.string(),
  title: z.string().nullish(),
  calendarId: z.string(),
  contactId: z.string().nullish(),
  appointmentStatus: z.string().nullish(),
  assignedUserId: z.string().nullish(),
  startTime: z.string(),
  endTime: z.string(),
});
export type GhlEvent = z.infer<typeof ghlEvent>;

export const ghlNote = z.looseObject({
  id: z.string(),
  body: z.string(),
  userId: z.string().nullish(),
  dateAdded: z.string(),
  contactId: z.string(),
});
export type GhlNote = z.infer<typeof ghlNote>;

export const ghlTask = z.looseObject({
  id: z.string(),
  title: z.string(),
  body: z.string().nullish(),
  assignedTo: z.string().nullish(),
  dueDate: z.string(),
  completed: z.boolean(),
  contactId: z.string(),
});
export type GhlTask = z.infer<typeof ghlTask>;

/** An id as a tool argument: what GoHighLevel's ids are made of, so it is safe in a path. */
export const ghlId = (what: string) =>
  z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[\w.-]+$/, 'letters, digits, _ . and -')
    // `.` and `..` would be read as path steps once in a URL (`/contacts/..` is `/`).
    .refine((id) => id !== '.' && id !== '..', 'not an id')
    .describe(`The ${what}'s GoHighLevel id`);
