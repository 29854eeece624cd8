// People who sign in to the dashboard, as the API shows them and as an admin creates them. Each zod
// schema is the validator, the type and the OpenAPI description.
import { z } from 'zod';
import { plainText } from '../../registry/text.ts';
import { passwordProblem } from './password-policy.ts';
import { LANGUAGES, TimeZone, USER_ROLES } from '../../registry/index.ts';

export const Role = z.enum(USER_ROLES);
export type Role = z.infer<typeof Role>;

export const Language = z.enum(LANGUAGES);
export type Language = z.infer<typeof Language>;

/**
 * How a person wants to be told about alerts ('phone': a voice call; 'wecom', 'dingtalk': a work
 * notification to their user id in the community's organisation), in their order.
 */
export const NOTIFY_CHANNELS = ['app', 'email', 'sms', 'phone', 'wecom', 'dingtalk'] as const;
export const NotifyChannel = z.enum(NOTIFY_CHANNELS);

/** A WeCom or DingTalk user id (账号 / userid): letters, digits and . _ - @, at most 64. */
export const WorkUserId = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9._@-]{1,64}$/,
    '1-64 letters, digits, ".", "_", "-" or "@", as the app shows your user id',
  );

export const Username = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z0-9][a-z0-9._-]{2,63}$/,
    '3-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  )
  .meta({ description: 'Login name, case-insensitive.' });

// scrypt cost grows with the input only slightly, but a megabyte password is still not a password.
export const Password = z
  .string()
  .max(256, 'at most 256 characters')
  .superRefine((v, ctx) => {
    const problem = passwordProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description: 'At least 10 characters; not a common password, a run of one character or a sequence.',
  });

export const User = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: Role,
  language: Language,
  /** Staff: the communities they see. Empty for other roles. */
  communities: z.array(z.string()),
  /** Family: the residents they see. Empty for other roles. */
  residents: z.array(z.string()),
  channels: z.array(NotifyChannel),
  createdAt: z.number().int(),
  /** When an admin disabled the account; null while it may sign in. */
  disabledAt: z.number().int().nullable(),
  /** Whether signing in also needs a code from an authenticator app (TOTP). */
  twoFactor: z.boolean(),
});
export type User = z.infer<typeof User>;

/** What the session endpoints return about the signed-in person. */
export const SessionUser = User.pick({
  id: true,
  username: true,
  displayName: true,
  role: true,
  language: true,
  twoFactor: true,
});
export type SessionUser = z.infer<typeof SessionUser>;

const idList = z.array(z.string().min(1).max(64)).max(500);

export const UserInput = z
  .strictObject({
    username: Username,
    displayName: plainText(100),
    role: Role,
    password: Password,
    language: Language.default('zh-CN'),
    communities: idList.default([]).meta({ description: 'Community ids, for staff.' }),
    residents: idList.default([]).meta({ description: 'Resident ids, for family.' }),
  })
  .refine((u) => u.role === 'staff' || u.communities.length === 0, {
    message: 'only staff are assigned communities',
    path: ['communities'],
  })
  .refine((u) => passwordProblem(u.password, u.username) === undefined, {
    message: 'must not contain the username',
    path: ['password'],
  })
  .refine((u) => u.role === 'family' || u.residents.length === 0, {
    message: 'only family members are assigned residents',
    path: ['residents'],
  })
  .refine((u) => u.role !== 'family' || u.residents.length > 0, {
    message: 'a family member needs at least one resident',
    path: ['residents'],
  });
export type UserInput = z.input<typeof UserInput>;

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM, 00:00-23:59');

/**
 * Hours in which a person is told of warnings only on the family page: no e-mail, text or call. Alarm and
 * critical alerts always go through. `from` later than `to` spans midnight (22:00-07:00).
 */
export const QuietHours = z
  .strictObject({ from: ClockTime, to: ClockTime, timeZone: TimeZone })
  .refine((q) => q.from !== q.to, { message: 'from and to must differ', path: ['to'] });
export type QuietHours = z.infer<typeof QuietHours>;

const workId = (app: string) =>
  WorkUserId.nullable()
    .optional()
    .meta({ description: `Your ${app} user id; null: none; left out when setting: unchanged.` });

export const Preferences = z.strictObject({
  channels: z.array(NotifyChannel).max(NOTIFY_CHANNELS.length),
  language: Language,
  quietHours: QuietHours.nullable()
    .optional()
    .meta({ description: 'null: none; left out when setting: unchanged.' }),
  wecomUserId: workId('WeCom (企业微信)'),
  dingtalkUserId: workId('DingTalk (钉钉)'),
});
export type Preferences = z.infer<typeof Preferences>;

/** A person's user ids in the work apps, null where they gave none. */
export interface WorkIds {
  wecomUserId: string | null;
  dingtalkUserId: string | null;
}

/** Preferences as answered (the time zone already in its canonical spelling). */
export const PreferencesView = z.object({
  channels: z.array(NotifyChannel),
  language: Language,
  quietHours: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }).nullable(),
  wecomUserId: z.string().nullable(),
  dingtalkUserId: z.string().nullable(),
});

export const LOGIN_OUTCOMES = ['ok', 'failed', 'rate_limited', 'logout'] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

export const LoginAuditEntry = z.object({
  id: z.number().int(),
  at: z.number().int(),
  username: z.string(),
  userId: z.string().nullable(),
  address: z.string(),
  outcome: z.enum(LOGIN_OUTCOMES),
  userAgent: z.string().nullable(),
});
export type LoginAuditEntry = z.infer<typeof LoginAuditEntry>;

/** Refusals of the account stores; the dashboard maps `code` to an HTTP status. */
export class AccountError extends Error {
  override readonly name = 'AccountError';

  constructor(
    readonly code:
      'duplicate_user' | 'unknown_reference' | 'not_found' | 'duplicate_link' | 'missing_work_id',
    message: string,
  ) {
    super(message);
  }
}
