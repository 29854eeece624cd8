// The words of a notification, in Chinese and English. Rules name themselves in English (the signal's
// summary); the Chinese title comes from the rule id's family, so a new rule still reads sensibly.
import type { Severity } from '../signals.ts';
import type { Notification } from './channel.ts';

const SEVERITY_ZH: Record<Severity, string> = {
  info: '提示',
  warning: '警告',
  alarm: '报警',
  critical: '危急',
};
const SEVERITY_EN: Record<Severity, string> = {
  info: 'Notice',
  warning: 'Warning',
  alarm: 'Alarm',
  critical: 'CRITICAL',
};

// Longest matching prefix wins ("device.offline" before "device").
const RULE_ZH: Record<string, string> = {
  'event.sos': '紧急呼叫（SOS）',
  'event.fall': '疑似跌倒',
  'event.smoke': '烟雾报警',
  'event.water_leak': '漏水报警',
  gas: '燃气浓度超标',
  co: '一氧化碳超标',
  absence: '长时间无活动',
  'absence.night_door': '夜间开门',
  'absence.water': '长时间未用水',
  'absence.not_back': '外出未归',
  water: '长时间未用水',
  vitals: '生命体征异常',
  climate: '室温异常',
  combination: '多项异常',
  'device.offline': '设备离线',
  'device.battery': '设备电量低',
  'device.not_worn': '手环未佩戴',
  device: '设备异常',
};

export function ruleNameZh(ruleId: string): string {
  const parts = ruleId.split('.');
  for (let n = parts.length; n > 0; n--) {
    const name = RULE_ZH[parts.slice(0, n).join('.')];
    if (name) return name;
  }
  return '安全警报';
}

export interface MessageText {
  title: string;
  lines: string[];
}

export interface AlertMessage {
  zh: MessageText;
  en: MessageText;
}

function formatTime(at: number, timeZone: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(at);
}

function evidenceText(evidence: Record<string, unknown>): string {
  return Object.entries(evidence)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** The notification in both languages. `timeZone` is the community's (times are shown as local time). */
export function alertMessage(n: Notification, timeZone = 'Asia/Shanghai'): AlertMessage {
  const { alert } = n;
  const who = n.resident?.name ?? alert.residentId;
  const home = n.resident?.home;
  const evidence = evidenceText(alert.evidence);
  const reminderZh = n.round > 0 ? `（第 ${n.round} 次提醒）` : '';
  const reminderEn = n.round > 0 ? ` (reminder ${n.round})` : '';
  return {
    zh: {
      title: `【安居】${SEVERITY_ZH[alert.severity]}：${who} ${ruleNameZh(alert.ruleId)}${reminderZh}`,
      lines: [
        `老人：${who}`,
        ...(home ? [`住址：${home}`] : []),
        `事件：${ruleNameZh(alert.ruleId)}（${alert.summary}）`,
        `级别：${SEVERITY_ZH[alert.severity]}`,
        `发生时间：${formatTime(alert.openedAt, timeZone, 'zh-CN')}`,
        ...(evidence ? [`详情：${evidence}`] : []),
        '尚无人接手，请尽快确认并处理。',
        ...(n.link ? [`一键接手：${n.link}`] : []),
      ],
    },
    en: {
      title: `[Anju] ${SEVERITY_EN[alert.severity]}: ${who}, ${alert.summary}${reminderEn}`,
      lines: [
        `Resident: ${who}`,
        ...(home ? [`Home: ${home}`] : []),
        `Event: ${alert.summary} (rule ${alert.ruleId})`,
        `Severity: ${alert.severity}`,
        `Since: ${formatTime(alert.openedAt, timeZone, 'en-GB')} (${timeZone})`,
        ...(evidence ? [`Details: ${evidence}`] : []),
        'Nobody has taken this on yet: please acknowledge and act.',
        ...(n.link ? [`Take it on in one tap: ${n.link}`] : []),
      ],
    },
  };
}

/** Both languages, the recipient's own first. */
export function inReadingOrder(message: AlertMessage, language: 'zh-CN' | 'en'): MessageText[] {
  return language === 'en' ? [message.en, message.zh] : [message.zh, message.en];
}
