// Every refused message is counted per device and reason, and logged at most once per device per
// interval, so a device stuck in a loop of bad messages cannot flood the log.
import type { Logger } from 'pino';
import type { ErrorCode } from '../firmware-protocol/index.ts';

export type RefusalReason = ErrorCode;

export class RefusalLedger {
  private readonly byDevice = new Map<string, Map<RefusalReason, number>>();
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();
  private total = 0;

  constructor(
    private readonly logger: Logger,
    private readonly logIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  record(deviceId: string, reason: RefusalReason, detail: Record<string, unknown>): void {
    this.total += 1;
    const counts = this.byDevice.get(deviceId) ?? new Map<RefusalReason, number>();
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    this.byDevice.set(deviceId, counts);

    const at = this.now();
    const last = this.lastLogged.get(deviceId);
    if (last && at - last.at < this.logIntervalMs) {
      last.suppressed += 1;
      return;
    }
    this.logger.warn(
      { deviceId, reason, ...detail, suppressedSinceLast: last?.suppressed ?? 0 },
      'message refused',
    );
    this.lastLogged.set(deviceId, { at, suppressed: 0 });
  }

  /** Refusals of one device by reason, for the devices page. */
  forDevice(deviceId: string): Partial<Record<RefusalReason, number>> {
    return Object.fromEntries(this.byDevice.get(deviceId) ?? []);
  }

  totalCount(): number {
    return this.total;
  }
}
