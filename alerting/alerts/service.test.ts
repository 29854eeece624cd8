import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../registry/test-dir.ts';
import { alertsPath } from './db.ts';
import { AlertError, type AlertChange } from './schemas.ts';
import { AlertService } from './service.ts';
import { clear, raise, settableClock, T0 } from './test-support.ts';

const tempDir = useTempDirs();

function openService(dataDir = tempDir(), clock = settableClock()) {
  const service = AlertService.open({ dataDir, clock });
  return { service, clock, dataDir };
}

describe('alert records', () => {
  it('turns 100 raises of one incident into one alert that counts the repeats', async () => {
    const { service, clock } = openService();
    for (let i = 0; i < 100; i++) {
      clock.set(T0 + i * 1000);
      service.apply(raise({ at: T0 + i * 1000, evidence: { lel: 27 + (i % 3) } }));
    }
    const alerts = service.list();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'open', repeatCount: 99, openedAt: T0, updatedAt: T0 + 99_000 });
    expect(alerts[0]!.evidence).toEqual({ lel: 27 + (99 % 3) });
    const trail = service.history(alerts[0]!.id);
    expect(trail.map((e) => e.action)).toEqual(['opened', ...Array(99).fill('repeated')]);
    await service.close();
  });

  it('keeps separate alerts for separate residents and rules', async () => {
    const { service } = openService();
    service.apply(raise());
    service.apply(raise({ residentId: 'rs_2' }));
    service.apply(raise({ ruleId: 'co.dose' }));
    service.apply(raise());
    expect(service.list()).toHaveLength(3);
    await service.close();
  });

  it('raises the severity of an open alert and never lowers it', async () => {
    const { service } = openService();
    const opened = service.apply(raise({ severity: 'warning' }))!;
    const rose = service.apply(raise({ severity: 'critical', summary: 'Methane at 55 % LEL' }))!;
    expect(rose.alert).toMatchObject({ severity: 'critical', summary: 'Methane at 55 % LEL' });
    expect(rose.audit).toMatchObject({
      action: 'severity_raised',
      details: { from: 'warning', to: 'critical' },
    });
    const lower = service.apply(raise({ severity: 'warning', summary: 'Methane at 12 % LEL' }))!;
    expect(lower.alert).toMatchObject({ severity: 'critical', summary: 'Methane at 55 % LEL' });
    // Not silent: the trail shows what the rule reported.
    expect(lower.audit).toMatchObject({ action: 'repeated', details: { reportedSeverity: 'warning' } });
    expect(service.get(opened.alert.id)!.severity).toBe('critical');
    await service.close();
  });

  it('resolves itself when a clearable condition clears, and the next raise is a new incident', async () => {
    const { service, clock } = openService();
    const { alert } = service.apply(raise())!;
    clock.set(T0 + 60_000);
    const cleared = service.apply(clear({ at: T0 + 60_000 }))!;
    expect(cleared.alert).toMatchObject({
      id: alert.id,
      state: 'resolved',
      outcome: 'other',
      resolvedBy: 'system',
      resolvedAt: T0 + 60_000,
      note: 'condition cleared',
    });
    expect(cleared.audit).toMatchObject({ actor: 'system', action: 'auto_resolved' });
    const again = service.apply(raise({ at: T0 + 120_000 }))!;
    expect(again.type).toBe('new');
    expect(again.alert.id).not.toBe(alert.id);
    await service.close();
  });

  it('keeps an SOS open when its condition clears: only a person closes it', async () => {
    const { service, clock } = openService();
    const sos = { ruleId: 'event.sos', severity: 'critical' as const, autoClear: false };
    const { alert } = service.apply(raise(sos))!;
    const cleared = service.apply(clear(sos))!;
    expect(cleared.alert.state).toBe('open');
    expect(cleared.audit.action).toBe('condition_cleared');
    clock.set(T0 + 90_000);
    const closed = service.resolve(alert.id, 'us_wang', 'emergency', '已送医 taken to hospital');
    expect(closed).toMatchObject({
      state: 'resolved',
      resolvedBy: 'us_wang',
      resolvedAt: T0 + 90_000,
      outcome: 'emergency',
      note: '已送医 taken to hospital',
    });
    await service.close();
  });

  it('keeps an alert for a person once any raise said so, even if a later clear allows auto-clear', async () => {
    const { service } = openService();
    service.apply(raise({ ruleId: 'event.fall', autoClear: true }));
    service.apply(raise({ ruleId: 'event.fall', autoClear: false, severity: 'critical' }));
    const cleared = service.apply(clear({ ruleId: 'event.fall', autoClear: true }))!;
    expect(cleared.alert).toMatchObject({ state: 'open', autoClear: false });
    await service.close();
  });

  it('ignores a clear when nothing is open', async () => {
    const { service } = openService();
    expect(service.apply(clear())).toBeUndefined();
    expect(service.list()).toEqual([]);
    await service.close();
  });

  it('records who acknowledged and who resolved, and refuses a second acknowledgement', async () => {
    const { service, clock } = openService();
    const { alert } = service.apply(raise())!;
    clock.set(T0 + 30_000);
    const acked = service.acknowledge(alert.id, 'us_li', '我去看看');
    expect(acked).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'us_li',
      acknowledgedAt: T0 + 30_000,
    });
    expect(() => service.acknowledge(alert.id, 'us_zhao')).toThrow(
      expect.objectContaining({ code: 'conflict' }) as Error,
    );
    // A repeat while someone is on it updates the alert but does not reopen it.
    expect(service.apply(raise())!.alert.state).toBe('acknowledged');
    service.addNote(alert.id, 'us_li', 'valve closed, windows open');
    clock.set(T0 + 600_000);
    service.resolve(alert.id, 'us_li', 'false_alarm', 'steam from cooking');
    expect(() => service.resolve(alert.id, 'us_li', 'other')).toThrow(AlertError);
    const trail = service.history(alert.id);
    expect(trail.map((e) => [e.action, e.actor])).toEqual([
      ['opened', 'system'],
      ['acknowledged', 'us_li'],
      ['repeated', 'system'],
      ['note', 'us_li'],
      ['resolved', 'us_li'],
    ]);
    expect(trail[4]).toMatchObject({
      at: T0 + 600_000,
      details: { outcome: 'false_alarm', note: 'steam from cooking' },
    });
    await service.close();
  });

  it('refuses unknown alerts, bad outcomes, empty actors and malformed signals with a code', async () => {
    const { service } = openService();
    const { alert } = service.apply(raise())!;
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as AlertError).code;
      }
      return 'no error';
    };
    expect(codeOf(() => service.acknowledge('al_missing', 'us_li'))).toBe('not_found');
    expect(codeOf(() => service.resolve(alert.id, 'us_li', 'oops' as never))).toBe('invalid_input');
    expect(codeOf(() => service.acknowledge(alert.id, '  '))).toBe('invalid_input');
    expect(codeOf(() => service.addNote(alert.id, 'us_li', ''))).toBe('invalid_input');
    expect(codeOf(() => service.apply({ ...raise(), severity: 'huge' } as never))).toBe('invalid_input');
    expect(service.history(alert.id)).toHaveLength(1);
    await service.close();
  });

  it('tells listeners about every change with its audit entry', async () => {
    const { service } = openService();
    const changes: AlertChange[] = [];
    const off = service.onChange((c) => changes.push(c));
    const { alert } = service.apply(raise())!;
    service.apply(raise({ severity: 'critical' }));
    service.acknowledge(alert.id, 'us_li');
    off();
    service.resolve(alert.id, 'us_li', 'emergency');
    expect(changes.map((c) => [c.type, c.audit.action, c.alert.state])).toEqual([
      ['new', 'opened', 'open'],
      ['update', 'severity_raised', 'open'],
      ['update', 'acknowledged', 'acknowledged'],
    ]);
    expect(changes.map((c) => c.audit)).toEqual(service.history(alert.id).slice(0, 3));
    await service.close();
  });

  it('keeps the lifecycle going when a listener throws', async () => {
    const errors: unknown[] = [];
    const service = AlertService.open({ dataDir: tempDir(), onError: (e) => errors.push(e) });
    service.onChange(() => {
      throw new Error('listener broke');
    });
    expect(service.apply(raise())!.type).toBe('new');
    expect(service.list()).toHaveLength(1);
    expect(errors).toHaveLength(1);
    await service.close();
  });

  it('lists by resident, community, state and time, most recently updated first', async () => {
    const dataDir = tempDir();
    const clock = settableClock();
    const directory = {
      resident: async (id: string) => ({
        id,
        name: id,
        communityId: id === 'rs_3' ? 'cm_b' : 'cm_a',
        home: '',
        language: 'zh-CN' as const,
        contacts: [],
      }),
    };
    const service = AlertService.open({ dataDir, clock, directory });
    const ids = ['rs_1', 'rs_2', 'rs_3'].map((residentId, i) => {
      clock.set(T0 + i * 1000);
      return service.apply(raise({ residentId }))!.alert.id;
    });
    clock.set(T0 + 5000);
    service.resolve(ids[0]!, 'us_li', 'false_alarm');
    const idsOf = (alerts: { id: string }[]) => alerts.map((a) => a.id);
    expect(idsOf(service.list())).toEqual([ids[0], ids[2], ids[1]]);
    expect(idsOf(service.list({ communityIds: ['cm_a'] }))).toEqual([ids[0], ids[1]]);
    expect(idsOf(service.list({ residentIds: ['rs_2', 'rs_3'] }))).toEqual([ids[2], ids[1]]);
    expect(idsOf(service.list({ state: 'active' }))).toEqual([ids[2], ids[1]]);
    expect(idsOf(service.list({ state: 'resolved' }))).toEqual([ids[0]]);
    expect(idsOf(service.list({ since: T0 + 2000 }))).toEqual([ids[0], ids[2]]);
    expect(idsOf(service.list({ limit: 1 }))).toEqual([ids[0]]);
    expect(idsOf(service.list({ communityIds: [] }))).toEqual([]);
    await service.close();
  });

  it('keeps alerts and their trail across a restart', async () => {
    const dataDir = tempDir();
    const first = openService(dataDir);
    const { alert } = first.service.apply(raise())!;
    first.service.acknowledge(alert.id, 'us_li');
    await first.service.close();
    const second = openService(dataDir);
    expect(second.service.get(alert.id)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'us_li' });
    expect(second.service.history(alert.id)).toHaveLength(2);
    // Still one incident: a repeat after the restart updates the same alert.
    expect(second.service.apply(raise())!.alert.id).toBe(alert.id);
    await second.service.close();
  });

  it('refuses edits and deletions of the audit trail at the database', async () => {
    const { service, dataDir } = openService();
    const { alert } = service.apply(raise())!;
    await service.close();
    const db = new Database(alertsPath(dataDir));
    expect(() => db.prepare("UPDATE audit SET actor = 'someone'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(db.prepare('SELECT COUNT(*) AS n FROM audit WHERE alert_id = ?').get(alert.id)).toEqual({ n: 1 });
    db.close();
  });

  it('refuses an alerts database newer than this code', async () => {
    const { service, dataDir } = openService();
    await service.close();
    const db = new Database(alertsPath(dataDir));
    db.pragma('user_version = 99');
    db.close();
    expect(() => AlertService.open({ dataDir })).toThrow(/newer than this Anju knows/);
  });
});
