// Every word of the one-tap link page, in Chinese and English. One type for both, so a string added to
// one language and not the other does not compile.
import type { Outcome } from '../../alerting/alerts/index.ts';
import type { Severity } from '../../alerting/signals.ts';

export type PageLanguage = 'zh-CN' | 'en';

export interface PageText {
  lang: string;
  title: string;
  hello(name: string): string;
  resident: string;
  home: string;
  event: string;
  severity: string;
  since: string;
  state: string;
  severities: Record<Severity, string>;
  open: string;
  onIt(name: string, at: string): string;
  closed(name: string, at: string): string;
  acknowledge: string;
  acknowledgeHint: string;
  resolve: string;
  outcome: string;
  outcomes: Record<Outcome, string>;
  youAreOnIt: string;
  othersStop: string;
  youClosed: string;
  tookFirst(name: string): string;
  invalid: string;
  expired: string;
  used(at: string): string;
  alertClosed(name: string, at: string): string;
  notThisAlert: string;
  notYours: string;
  tooMany: string;
  unavailable: string;
  signIn: string;
  someone: string;
}

export const PAGE_TEXT: Record<PageLanguage, PageText> = {
  'zh-CN': {
    lang: 'zh-CN',
    title: '安居 · 告警',
    hello: (name) => `${name}，您好`,
    resident: '老人',
    home: '住址',
    event: '事件',
    severity: '级别',
    since: '发生时间',
    state: '状态',
    severities: { info: '提示', warning: '警告', alarm: '报警', critical: '危急' },
    open: '尚无人接手',
    onIt: (name, at) => `${name} 于 ${at} 接手处理`,
    closed: (name, at) => `${name} 于 ${at} 关闭`,
    acknowledge: '我来处理',
    acknowledgeHint: '按下后，其他人会看到您正在处理，本轮通知不再发给其他家属。',
    resolve: '已处理，关闭告警',
    outcome: '处理结果',
    outcomes: { emergency: '确有紧急情况', false_alarm: '误报', device_fault: '设备故障', other: '其他' },
    youAreOnIt: '已记录：您正在处理。',
    othersStop: '社区工作人员已在控制台看到，通知不再继续发出。',
    youClosed: '已记录：告警已关闭。',
    tookFirst: (name) => `${name} 已先接手了此告警。`,
    invalid: '链接无效。请确认打开的是短信或邮件中的完整链接。',
    expired: '此链接已过期。请登录安居查看告警。',
    used: (at) => `此链接已使用：您于 ${at} 接手了此告警。`,
    alertClosed: (name, at) => `此告警已由 ${name} 于 ${at} 关闭。`,
    notThisAlert: '此链接不属于该告警。',
    notYours: '此链接只能用于接手告警。',
    tooMany: '请求过于频繁，请稍候一分钟再试。',
    unavailable: '暂时无法记录，请稍后再试，或直接致电社区。',
    signIn: '登录安居',
    someone: '有人',
  },
  en: {
    lang: 'en',
    title: 'Anju · Alert',
    hello: (name) => `Hello ${name}`,
    resident: 'Resident',
    home: 'Home',
    event: 'Event',
    severity: 'Severity',
    since: 'Since',
    state: 'State',
    severities: { info: 'Notice', warning: 'Warning', alarm: 'Alarm', critical: 'Critical' },
    open: 'Nobody has taken this on yet',
    onIt: (name, at) => `${name} took this on at ${at}`,
    closed: (name, at) => `Closed by ${name} at ${at}`,
    acknowledge: "I'm on it",
    acknowledgeHint:
      'Once you press it, everyone sees that you are on it and the rest of the family is not told again.',
    resolve: 'Dealt with: close the alert',
    outcome: 'Outcome',
    outcomes: {
      emergency: 'A real emergency',
      false_alarm: 'False alarm',
      device_fault: 'Device fault',
      other: 'Other',
    },
    youAreOnIt: 'Recorded: you are on it.',
    othersStop: 'Community staff see it on their console; no more notifications go out.',
    youClosed: 'Recorded: the alert is closed.',
    tookFirst: (name) => `${name} took this alert on first.`,
    invalid: 'This link is not valid. Check that you opened the whole link from the message.',
    expired: 'This link has expired. Sign in to Anju to see the alert.',
    used: (at) => `This link has been used: you took this alert on at ${at}.`,
    alertClosed: (name, at) => `This alert was closed by ${name} at ${at}.`,
    notThisAlert: 'This link is for another alert.',
    notYours: 'This link can only take the alert on.',
    tooMany: 'Too many tries: please wait a minute and try again.',
    unavailable: 'This could not be recorded just now. Try again shortly, or call the community.',
    signIn: 'Sign in to Anju',
    someone: 'Someone',
  },
};

/**
 * The page's language from Accept-Language: the first of Chinese or English the browser asks for, by
 * weight; `fallback` (the language the link was sent in) when it names neither.
 */
export function pageLanguage(header: string | undefined, fallback: PageLanguage): PageLanguage {
  if (!header) return fallback;
  const ranked = header
    .slice(0, 500)
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.toLowerCase(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => r.q > 0 && Number.isFinite(r.q))
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return fallback;
}
