// t(key, params) over two message catalogues. The language is reactive: switching it re-renders every
// page, and is remembered in localStorage.
import { ref } from 'vue';
import en, { type MessageKey } from './en.ts';
import { LOCALE_STORAGE_KEY, pickLocale, type Locale } from './pick.ts';
import zhCN from './zh-CN.ts';

export type { Locale, MessageKey };
export { LOCALES } from './pick.ts';

const catalogues: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

function stored(): string | null {
  try {
    return localStorage.getItem(LOCALE_STORAGE_KEY);
  } catch {
    return null; // storage disabled: fall back to the browser's language
  }
}

export const locale = ref<Locale>(pickLocale(stored(), navigator.languages ?? [navigator.language]));
document.documentElement.lang = locale.value;

export function setLocale(next: Locale): void {
  locale.value = next;
  document.documentElement.lang = next;
  try {
    localStorage.setItem(LOCALE_STORAGE_KEY, next);
  } catch {
    // Not remembered, still switched.
  }
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = catalogues[locale.value][key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** For keys built from data (rule ids, enum values): the message if there is one. */
export function tMaybe(key: string, params: Record<string, string | number> = {}): string | undefined {
  return key in en ? t(key as MessageKey, params) : undefined;
}
