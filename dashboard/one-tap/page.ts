// The one-tap link page as HTML: small, readable on a phone at night, no script (a plain form POST works
// on any phone browser and lets link previewers, which only GET, change nothing). Every value is escaped.
import type { Alert } from '../../alerting/alerts/index.ts';
import { ruleNameZh } from '../../alerting/channels/message.ts';
import { OUTCOMES } from '../../alerting/alerts/index.ts';
import type { PageLanguage, PageText } from './text.ts';

export const STYLE_PATH = '/t/style.css';

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** What the page shows of the alert, with names already looked up. */
export interface AlertFacts {
  alert: Alert;
  residentName: string | null;
  /** Only for staff links: a family member knows where their relative lives. */
  home: string | null;
  acknowledgedBy: string | null;
  resolvedBy: string | null;
  timeZone: string;
}

export interface Actions {
  token: string;
  acknowledge: boolean;
  resolve: boolean;
}

export function formatTime(at: number, timeZone: string, language: PageLanguage): string {
  return new Intl.DateTimeFormat(language === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone,
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(at);
}

function stateText(t: PageText, f: AlertFacts, language: PageLanguage): string {
  const { alert } = f;
  const when = (at: number | null) => (at === null ? '' : formatTime(at, f.timeZone, language));
  if (alert.state === 'resolved') return t.closed(f.resolvedBy ?? t.someone, when(alert.resolvedAt));
  if (alert.state === 'acknowledged')
    return t.onIt(f.acknowledgedBy ?? t.someone, when(alert.acknowledgedAt));
  return t.open;
}

function factsList(t: PageText, f: AlertFacts, language: PageLanguage): string {
  const { alert } = f;
  // Rules name themselves in English; a Chinese reader gets the rule's Chinese name.
  const event = language === 'en' ? alert.summary : ruleNameZh(alert.ruleId);
  const rows: [string, string][] = [
    [t.resident, f.residentName ?? alert.residentId],
    ...(f.home ? ([[t.home, f.home]] as [string, string][]) : []),
    [t.event, event],
    [t.severity, t.severities[alert.severity]],
    [t.since, formatTime(alert.openedAt, f.timeZone, language)],
    [t.state, stateText(t, f, language)],
  ];
  return `<dl class="facts" data-alert-id="${escapeHtml(alert.id)}" data-state="${alert.state}">${rows
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('')}</dl>`;
}

function forms(t: PageText, f: AlertFacts, a: Actions): string {
  const action = `/t/${escapeHtml(a.token)}`;
  const alertField = `<input type="hidden" name="alert" value="${escapeHtml(f.alert.id)}">`;
  const parts: string[] = [];
  if (a.acknowledge) {
    parts.push(
      `<form method="post" action="${action}">${alertField}<input type="hidden" name="action" value="acknowledge">` +
        `<button type="submit" class="primary" name="go" value="1">${escapeHtml(t.acknowledge)}</button>` +
        `<p class="hint">${escapeHtml(t.acknowledgeHint)}</p></form>`,
    );
  }
  if (a.resolve) {
    const options = OUTCOMES.map(
      (o) => `<option value="${o}"${o === 'other' ? ' selected' : ''}>${escapeHtml(t.outcomes[o])}</option>`,
    ).join('');
    parts.push(
      `<form method="post" action="${action}">${alertField}<input type="hidden" name="action" value="resolve">` +
        `<label>${escapeHtml(t.outcome)} <select name="outcome">${options}</select></label>` +
        `<button type="submit" class="secondary" name="go" value="1">${escapeHtml(t.resolve)}</button></form>`,
    );
  }
  return parts.join('');
}

function page(t: PageText, body: string): string {
  return `<!doctype html><html lang="${t.lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(t.title)}</title><link rel="stylesheet" href="${STYLE_PATH}"></head>
<body><main class="one-tap"><h1>${escapeHtml(t.title)}</h1>${body}</main></body></html>`;
}

/** The alert with what this link may do, under a greeting and an optional notice (e.g. "recorded"). */
export function alertPage(
  t: PageText,
  language: PageLanguage,
  name: string,
  f: AlertFacts,
  actions: Actions,
  notice?: { text: string; kind: 'done' | 'warn' },
): string {
  const severity = `severity-${f.alert.severity}`;
  return page(
    t,
    `<p class="hello">${escapeHtml(t.hello(name))}</p>` +
      (notice ? `<p class="notice ${notice.kind}" role="status">${escapeHtml(notice.text)}</p>` : '') +
      `<section class="alert ${severity}">${factsList(t, f, language)}</section>` +
      forms(t, f, actions),
  );
}

/** A page that only says something: an invalid, expired or used link, too many tries. */
export function messagePage(
  t: PageText,
  text: string,
  facts?: { f: AlertFacts; language: PageLanguage },
): string {
  return page(
    t,
    `<p class="notice warn" role="status">${escapeHtml(text)}</p>` +
      (facts ? `<section class="alert">${factsList(t, facts.f, facts.language)}</section>` : '') +
      `<p><a href="/login">${escapeHtml(t.signIn)}</a></p>`,
  );
}

/** The page's stylesheet (the content security policy allows no inline style). */
export const STYLE = `*{box-sizing:border-box}
body{margin:0;font:17px/1.5 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;color:#1a1a1a;background:#f4f5f7}
.one-tap{max-width:30rem;margin:0 auto;padding:1rem}
h1{font-size:1.1rem;color:#555;margin:.25rem 0 1rem}
.hello{font-size:1.2rem;margin:0 0 .75rem}
.alert{background:#fff;border-left:.4rem solid #888;border-radius:.5rem;padding:.75rem 1rem;margin-bottom:1rem}
.severity-alarm{border-color:#d9480f}.severity-critical{border-color:#c92a2a}.severity-warning{border-color:#f08c00}
.facts{display:grid;grid-template-columns:auto 1fr;gap:.35rem .75rem;margin:0}
.facts dt{color:#666}.facts dd{margin:0;font-weight:600;overflow-wrap:anywhere}
form{margin:0 0 1rem}
button{display:block;width:100%;min-height:3.5rem;font-size:1.25rem;border:0;border-radius:.5rem;margin:.5rem 0}
button.primary{background:#c92a2a;color:#fff}
button.secondary{background:#e9ecef;color:#1a1a1a;font-size:1.05rem}
select{font-size:1rem;margin-left:.5rem;padding:.25rem}
.hint{color:#555;font-size:.9rem;margin:.25rem 0}
.notice{padding:.75rem 1rem;border-radius:.5rem;font-weight:600}
.notice.done{background:#d3f9d8;color:#1b5e20}.notice.warn{background:#fff3bf;color:#5c3c00}
a{color:#1864ab}
`;
