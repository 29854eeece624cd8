// How report figures are written for people, shared by the console page (and so the PDF) and the tests
// that read the PDF back: minutes with one decimal, shares as whole percentages, a dash for none.

export function minutesText(ms: number | null): string {
  return ms === null ? '–' : (ms / 60_000).toFixed(1);
}

export function percentText(share: number | null): string {
  return share === null ? '–' : `${Math.round(share * 100)}%`;
}
