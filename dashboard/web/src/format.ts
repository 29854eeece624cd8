// Times as people read them, in the current language: "5 min ago", "11/24 08:00".
import { ref } from 'vue';
import { locale, t } from './i18n/index.ts';

/** A clock that ticks every 15 s, so ages on screen move without a reload. */
export const now = ref(Date.now());
setInterval(() => (now.value = Date.now()), 15_000);

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

export function ago(ms: number | null, reference = now.value): string {
  if (ms === null) return t('common.never');
  // `now` ticks slowly, and device clocks run a little ahead: nothing on screen happened in the future.
  const diff = Math.min(0, ms - Math.max(reference, Date.now()));
  const rtf = new Intl.RelativeTimeFormat(locale.value, { numeric: 'auto', style: 'short' });
  for (const [unit, size] of UNITS)
    if (Math.abs(diff) >= size) return rtf.format(Math.round(diff / size), unit);
  return rtf.format(Math.round(diff / 1000), 'second');
}

export function dateTime(ms: number | null): string {
  if (ms === null) return t('common.never');
  return new Intl.DateTimeFormat(locale.value, {
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(ms);
}

/** "Building 3" / "3 号楼" for a bare number or letter; a name that says what it is ("1幢") as it is. */
export function buildingLabel(name: string): string {
  return /^[\dA-Za-z-]+$/.test(name) ? t('homes.building', { name }) : name;
}

/** A home as lists name it: "南湖社区 · 幸福里 · 3-301". */
export function homeLabel(home: {
  community: string;
  compound: string;
  building: string;
  home: string;
}): string {
  return `${home.community} · ${home.compound} · ${home.building}-${home.home}`;
}

/** The zone a home's rules judge night and day in, and where it comes from (the home, its community). */
export function timeZoneLabel(home: { timeZone: string | null; communityTimeZone: string | null }): string {
  if (home.timeZone) return t('timeZone.home', { zone: home.timeZone });
  if (home.communityTimeZone) return t('timeZone.community', { zone: home.communityTimeZone });
  return t('timeZone.default');
}
