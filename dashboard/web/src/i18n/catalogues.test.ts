import { describe, expect, it } from 'vitest';
import en from './en.ts';
import { pickLocale } from './pick.ts';
import zhCN from './zh-CN.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  it('have the same keys in English and Chinese, so no page shows a raw key', () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
  });

  it('use the same {placeholders} for each key in both languages', () => {
    for (const [key, text] of Object.entries(en)) {
      expect(placeholders(zhCN[key as keyof typeof en]), key).toEqual(placeholders(text));
    }
  });

  it('have no empty message', () => {
    for (const catalogue of [en, zhCN]) {
      for (const [key, text] of Object.entries(catalogue)) expect(text.trim(), key).not.toBe('');
    }
  });

  it('are really translated: Chinese messages contain Chinese', () => {
    const untranslated = Object.entries(zhCN).filter(
      ([key, text]) => text === en[key as keyof typeof en] && !/[\u4e00-\u9fff]/.test(text),
    );
    // Names that read the same in both languages.
    expect(untranslated.map(([key]) => key).sort()).toEqual(['homes.compound', 'language.en']);
  });
});

describe('language choice', () => {
  it('keeps the language the user chose before', () => {
    expect(pickLocale('en', ['zh-CN'])).toBe('en');
    expect(pickLocale('zh-CN', ['en-US'])).toBe('zh-CN');
  });

  it("follows the browser's first language we speak", () => {
    expect(pickLocale(null, ['en-GB', 'zh-CN'])).toBe('en');
    expect(pickLocale(null, ['fr-FR', 'zh-TW'])).toBe('zh-CN');
    expect(pickLocale('klingon', ['en'])).toBe('en');
  });

  it('falls back to Chinese when the browser speaks neither', () => {
    expect(pickLocale(null, ['fr-FR', 'de'])).toBe('zh-CN');
    expect(pickLocale(null, [])).toBe('zh-CN');
  });
});
