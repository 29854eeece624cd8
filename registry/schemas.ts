// Inputs and records of the registry. Each zod schema is the validator and the source of its type;
// record schemas document what the registry returns (and can become HTTP response schemas).
import { z } from 'zod';
import { DEVICE_ID_PATTERN, DEVICE_KINDS, ROOMS } from '../firmware-protocol/index.ts';
import { hasControl, optionalNotes, PhoneNumber, plainText } from './text.ts';

export const LANGUAGES = ['zh-CN', 'en'] as const;
export const CONTACT_RELATIONS = ['family', 'neighbour', 'grid_worker', 'staff'] as const;
export const CONTACT_CHANNELS = ['app', 'email', 'sms', 'phone'] as const;
export const USER_ROLES = ['admin', 'staff', 'family'] as const;

const name = plainText(100);

/** An IANA time zone name as Intl knows it, stored in its canonical spelling ("asia/shanghai" too). */
export const TimeZone = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .transform((v, ctx) => {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: v }).resolvedOptions().timeZone;
    } catch {
      ctx.addIssue({ code: 'custom', message: `unknown IANA time zone "${v}" (e.g. Asia/Shanghai)` });
      return z.NEVER;
    }
  })
  .meta({ description: 'An IANA time zone, e.g. Asia/Shanghai or Europe/Berlin.' });

/** "浙江省/嘉兴市/南湖区/新嘉街道": province, city, county and street, outermost first. */
export const RegionPath = z
  .string()
  .max(200)
  .refine((v) => !hasControl(v), 'must not contain control characters')
  .transform((v) =>
    v
      .split('/')
      .map((part) => part.trim())
      .filter(Boolean)
      .join('/'),
  )
  .meta({ description: 'Province/city/county/street above the community, separated by "/".' });

export const HomeAddress = z.object({
  region: RegionPath.optional(),
  community: name,
  compound: name,
  building: name,
  home: name.meta({ description: 'The home label inside its building, e.g. "2-301".' }),
  /** Sets (or changes) the home's own zone; without it the home keeps its zone or inherits. */
  timeZone: TimeZone.optional(),
  /** Sets (or changes) the community's zone, which its homes without one of their own follow. */
  communityTimeZone: TimeZone.optional(),
});
export type HomeAddress = z.infer<typeof HomeAddress>;

const currentYear = new Date().getUTCFullYear();

export const ResidentFields = z.object({
  name,
  birthYear: z.number({ error: 'expected a year such as 1942' }).int().min(1900).max(currentYear).optional(),
  livesAlone: z.boolean().default(false),
  conditions: z.array(plainText(64)).max(32).default([]),
  language: z.enum(LANGUAGES).default('zh-CN'),
  routineNotes: optionalNotes(2000),
});
export type ResidentFields = z.infer<typeof ResidentFields>;

export const ResidentInput = ResidentFields.extend({ address: HomeAddress });
export type ResidentInput = z.input<typeof ResidentInput>;

export const DeviceId = z
  .string()
  .regex(DEVICE_ID_PATTERN, '3-64 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const DeviceInput = z
  .object({
    id: DeviceId,
    kind: z.enum(DEVICE_KINDS),
    /** The wearer, for a wearable; its home is the device's home. */
    residentId: z.string().min(1).optional(),
    homeId: z.string().min(1).optional(),
    room: z.enum(ROOMS).optional(),
    vendor: optionalNotes(100),
    model: optionalNotes(100),
  })
  .refine((d) => d.residentId !== undefined || d.homeId !== undefined, {
    message: 'a device needs a resident or a home',
    path: ['homeId'],
  });
export type DeviceInput = z.input<typeof DeviceInput>;

export const ContactInput = z
  .object({
    residentId: z.string().min(1),
    name,
    relation: z.enum(CONTACT_RELATIONS),
    phone: PhoneNumber.optional(),
    email: z.email().optional(),
    channels: z.array(z.enum(CONTACT_CHANNELS)).default([]),
    /** 1 is told first; escalation widens to 2, 3, ... until someone acknowledges. */
    escalationOrder: z.number().int().min(1).max(99).default(1),
  })
  .refine((c) => !c.channels.includes('email') || c.email !== undefined, {
    message: 'the email channel needs an email address',
    path: ['email'],
  })
  .refine((c) => !c.channels.some((ch) => ch === 'sms' || ch === 'phone') || c.phone !== undefined, {
    message: 'the sms and phone channels need a phone number',
    path: ['phone'],
  });
export type ContactInput = z.input<typeof ContactInput>;

export const DeviceFilter = z.object({
  residentId: z.string().optional(),
  homeId: z.string().optional(),
});
export type DeviceFilter = z.infer<typeof DeviceFilter>;

export const ResidentFilter = z.object({
  communityId: z.string().optional(),
  homeId: z.string().optional(),
});
export type ResidentFilter = z.infer<typeof ResidentFilter>;

/** What a person types into a search box: trimmed, 1-100 characters, no control characters. */
export const SearchText = plainText(100);

/** Where a resident sorts in a list: region, community, compound, building, home label, name, id. */
export const ResidentKey = z.tuple([
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
]);
export type ResidentKey = z.infer<typeof ResidentKey>;

/** One bound on a query's rows: enough for any page, small enough for one answer. */
const QueryLimit = z.number().int().min(1).max(5000).default(100);

/**
 * A page of residents in address order. communityIds and residentIds keep the query inside a caller's
 * reach (absent: no restriction; empty: nothing); search matches the name, home label, building,
 * compound or community, ignoring case; after is the key of the last resident of the previous page.
 */
export const ResidentQuery = z.object({
  communityIds: z.array(z.string()).optional(),
  residentIds: z.array(z.string()).optional(),
  search: SearchText.optional(),
  after: ResidentKey.optional(),
  limit: QueryLimit,
});
export type ResidentQuery = z.input<typeof ResidentQuery>;

/**
 * A page of devices by id. communityIds keeps the query to communities; of keeps it to the devices worn
 * by these residents or fixed in these homes (a family's reach); search matches the device id, the
 * home's address, or the name of the wearer or of a resident of the home; after is the last device id.
 */
export const DeviceQuery = z.object({
  communityIds: z.array(z.string()).optional(),
  of: z.object({ residentIds: z.array(z.string()), homeIds: z.array(z.string()) }).optional(),
  search: SearchText.optional(),
  after: z.string().optional(),
  limit: QueryLimit,
});
export type DeviceQuery = z.input<typeof DeviceQuery>;

// Records returned by the registry.

export const HomePath = z.object({
  homeId: z.string(),
  region: z.string(),
  communityId: z.string(),
  community: z.string(),
  compoundId: z.string(),
  compound: z.string(),
  buildingId: z.string(),
  building: z.string(),
  home: z.string(),
  /** The home's own time zone; null follows the community's. */
  timeZone: z.string().nullable(),
  /** The community's time zone; null follows the rules' default (Asia/Shanghai unless a rules file says). */
  communityTimeZone: z.string().nullable(),
});
export type HomePath = z.infer<typeof HomePath>;

export const Contact = z.object({
  id: z.string(),
  residentId: z.string(),
  name: z.string(),
  relation: z.enum(CONTACT_RELATIONS),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  channels: z.array(z.enum(CONTACT_CHANNELS)),
  escalationOrder: z.number().int(),
  createdAt: z.number().int(),
});
export type Contact = z.infer<typeof Contact>;

export const Resident = z.object({
  id: z.string(),
  name: z.string(),
  livesAlone: z.boolean(),
  birthYear: z.number().int().nullable(),
  conditions: z.array(z.string()),
  language: z.enum(LANGUAGES),
  routineNotes: z.string().nullable(),
  createdAt: z.number().int(),
  home: HomePath,
});
export type Resident = z.infer<typeof Resident>;

/** The resident's place in ResidentQuery's order, to continue a list after it. */
export function residentKey(r: Resident): ResidentKey {
  const h = r.home;
  return [h.region, h.community, h.compound, h.building, h.home, r.name, r.id];
}

export const ResidentDetail = Resident.extend({ contacts: z.array(Contact) });
export type ResidentDetail = z.infer<typeof ResidentDetail>;

/** A device as shown to people and APIs: never its secret hash. */
export const Device = z.object({
  id: z.string(),
  kind: z.enum(DEVICE_KINDS),
  homeId: z.string(),
  residentId: z.string().nullable(),
  room: z.enum(ROOMS).nullable(),
  vendor: z.string().nullable(),
  model: z.string().nullable(),
  revokedAt: z.number().int().nullable(),
  lastSeen: z.number().int().nullable(),
  online: z.boolean(),
  createdAt: z.number().int(),
});
export type Device = z.infer<typeof Device>;
