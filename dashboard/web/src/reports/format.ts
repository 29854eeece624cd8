// The report as the console gets it, how its figures are written, and the report the PDF renderer hands in.
import type { CommunityReport } from '../../../reports/schemas.ts';

export { minutesText as minutes, percentText as percent } from '../../../reports/numbers.ts';
export type Report = CommunityReport;

/** The report handed in by the PDF renderer (dashboard/reports/pdf.ts), if this page is being printed. */
export function printedReport(): Report | null {
  return (window as unknown as { __ANJU_REPORT__?: Report }).__ANJU_REPORT__ ?? null;
}
