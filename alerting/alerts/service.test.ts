import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../registry/test-dir.ts';
import { alertsPath } from './db.ts';
import { MIGRATIONS } from './migrations.ts';
import { AlertError, type AlertChange } from './schemas.ts';
import { AlertService } from './service.ts';
import { clear, raise, settableClock, T0 } from './test-support.ts';

const tempDir = useTempDirs();

async function openService(dataDir = tempDir(), clock = settableClock()) {
  const service = await AlertService.open({ dataDir, clock });
  return { service, clock, dataDir };
}

describe('alert records', () => {
  it('turns 100 raises of one incident into one alert that counts the repeats', async () => {
    const { service, clock } = await openService();
    for (let i = 0; i < 100; i++) {
      clock.set(T0 + i * 1000);
      await service.apply(raise({ at: T0 + i * 1000, evidence: { lel: 27 + (i % 3) } }));
    }
    const alerts = await service.list();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'open', repeatCount: 99, openedAt: T0, updatedAt: T0 + 99_000 });
    expect(alerts[0]!.evidence).toEqual({ lel: 27 + (99 % 3) });
    const trail = await service.history(alerts[0]!.id);
    expect(trail.map((e) => e.action)).toEqual(['opened', ...Array(99).fill('repeated')]);
    await service.close();
  });

  it('keeps separate alerts for separate residents and rules', async () => {
    const { service } = await openService();
    await service.apply(raise());
    await service.apply(raise({ residentId: 'rs_2' }));
    await service.apply(raise({ ruleId: 'co.dose' }));
    await service.apply(raise());
    expect(await service.list()).toHaveLength(3);
    await service.close();
  });

  it('raises the severity of an open alert and never lowers it', async () => {
    const { service } = await openService();
    const opened = (await service.apply(raise({ severity: 'warning' })))!;
    const rose = (await service.apply(raise({ severity: 'critical', summary: 'Methane at 55 % LEL' })))!;
    expect(rose.alert).toMatchObject({ severity: 'critical', summary: 'Methane at 55 % LEL' });
    expect(rose.audit).toMatchObject({
      action: 'severity_raised',
      details: { from: 'warning', to: 'critical' },
    });
    const lower = (await service.apply(raise({ severity: 'warning', summary: 'Methane at 12 % LEL' })))!;
    expect(lower.alert).toMatchObject({ severity: 'critical', summary: 'Methane at 55 % LEL' });
    // Not silent: the trail shows what the rule reported.
    expect(lower.audit).toMatchObject({ action: 'repeated', details: { reportedSeverity: 'warning' } });
    expect((await service.get(opened.alert.id))!.severity).toBe('critical');
    await service.close();
  });

  it('resolves itself when a clearable condition clears, and the next raise is a new incident', async () => {
    const { service, clock } = await openService();
    const { alert } = (await service.apply(raise()))!;
    clock.set(T0 + 60_000);
    const cleared = (await service.apply(clear({ at: T0 + 60_000 })))!;
    expect(cleared.alert).toMatchObject({
      id: alert.id,
      state: 'resolved',
      outcome: 'other',
      resolvedBy: 'system',
      resolvedAt: T0 + 60_000,
      note: 'condition cleared',
    });
    expect(cleared.audit).toMatchObject({ actor: 'system', action: 'auto_resolved' });
    const again = (await service.apply(raise({ at: T0 + 120_000 })))!;
    expect(again.type).toBe('new');
    expect(again.alert.id).not.toBe(alert.id);
    await service.close();
  });

  it('keeps an SOS open when its condition clears: only a person closes it', async () => {
    const { service, clock } = await openService();
    const sos = { ruleId: 'event.sos', severity: 'critical' as const, autoClear: false };
    const { alert } = (await service.apply(raise(sos)))!;
    const cleared = (await service.apply(clear(sos)))!;
    expect(cleared.alert.state).toBe('open');
    expect(cleared.audit.action).toBe('condition_cleared');
    clock.set(T0 + 90_000);
    const closed = await service.resolve(alert.id, 'us_wang', 'emergency', '已送医 taken to hospital');
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
    const { service } = await openService();
    await service.apply(raise({ ruleId: 'event.fall', autoClear: true }));
    await service.apply(raise({ ruleId: 'event.fall', autoClear: false, severity: 'critical' }));
    const cleared = (await service.apply(clear({ ruleId: 'event.fall', autoClear: true })))!;
    expect(cleared.alert).toMatchObject({ state: 'open', autoClear: false });
    await service.close();
  });

  it('ignores a clear when nothing is open', async () => {
    const { service } = await openService();
    expect(await service.apply(clear())).toBeUndefined();
    expect(await service.list()).toEqual([]);
    await service.close();
  });

  it('records who acknowledged and who resolved, and refuses a second acknowledgement', async () => {
    const { service, clock } = await openService();
    const { alert } = (await service.apply(raise()))!;
    clock.set(T0 + 30_000);
    const acked = await service.acknowledge(alert.id, 'us_li', '我去看看');
    expect(acked).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'us_li',
      acknowledgedAt: T0 + 30_000,
    });
    await expect(service.acknowledge(alert.id, 'us_zhao')).rejects.toThrow(
      expect.objectContaining({ code: 'conflict' }) as Error,
    );
    // A repeat while someone is on it updates the alert but does not reopen it.
    expect((await service.apply(raise()))!.alert.state).toBe('acknowledged');
    await service.addNote(alert.id, 'us_li', 'valve closed, windows open');
    clock.set(T0 + 600_000);
    await service.resolve(alert.id, 'us_li', 'false_alarm', 'steam from cooking');
    await expect(service.resolve(alert.id, 'us_li', 'other')).rejects.toThrow(AlertError);
    const trail = await service.history(alert.id);
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
    const { service } = await openService();
    const { alert } = (await service.apply(raise()))!;
    const codeOf = async (action: Promise<unknown>) => {
      try {
        await action;
      } catch (err) {
        return (err as AlertError).code;
      }
      return 'no error';
    };
    expect(await codeOf(service.acknowledge('al_missing', 'us_li'))).toBe('not_found');
    expect(await codeOf(service.resolve(alert.id, 'us_li', 'oops' as never))).toBe('invalid_input');
    expect(await codeOf(service.acknowledge(alert.id, '  '))).toBe('invalid_input');
    expect(await codeOf(service.addNote(alert.id, 'us_li', ''))).toBe('invalid_input');
    expect(await codeOf(service.apply({ ...raise(), severity: 'huge' } as never))).toBe('invalid_input');
    expect(await service.history(alert.id)).toHaveLength(1);
    await service.close();
  });

  it('tells listeners about every change with its audit entry', async () => {
    const { service } = await openService();
    const changes: AlertChange[] = [];
    const off = service.onChange((c) => changes.push(c));
    const { alert } = (await service.apply(raise()))!;
    await service.apply(raise({ severity: 'critical' }));
    await service.acknowledge(alert.id, 'us_li');
    off();
    await service.resolve(alert.id, 'us_li', 'emergency');
    expect(changes.map((c) => [c.type, c.audit.action, c.alert.state])).toEqual([
      ['new', 'opened', 'open'],
      ['update', 'severity_raised', 'open'],
      ['update', 'acknowledged', 'acknowledged'],
    ]);
    expect(changes.map((c) => c.audit)).toEqual((await service.history(alert.id)).slice(0, 3));
    await service.close();
  });

  it('keeps the lifecycle going when a listener throws', async () => {
    const errors: unknown[] = [];
    const service = await AlertService.open({ dataDir: tempDir(), onError: (e) => errors.push(e) });
    service.onChange(() => {
      throw new Error('listener broke');
    });
    expect((await service.apply(raise()))!.type).toBe('new');
    expect(await service.list()).toHaveLength(1);
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
    const service = await AlertService.open({ dataDir, clock, directory });
    const ids: string[] = [];
    for (const [i, residentId] of ['rs_1', 'rs_2', 'rs_3'].entries()) {
      clock.set(T0 + i * 1000);
      ids.push((await service.apply(raise({ residentId })))!.alert.id);
    }
    clock.set(T0 + 5000);
    await service.resolve(ids[0]!, 'us_li', 'false_alarm');
    const idsOf = (alerts: { id: string }[]) => alerts.map((a) => a.id);
    expect(idsOf(await service.list())).toEqual([ids[0], ids[2], ids[1]]);
    expect(idsOf(await service.list({ communityIds: ['cm_a'] }))).toEqual([ids[0], ids[1]]);
    expect(idsOf(await service.list({ residentIds: ['rs_2', 'rs_3'] }))).toEqual([ids[2], ids[1]]);
    expect(idsOf(await service.list({ state: 'active' }))).toEqual([ids[2], ids[1]]);
    expect(idsOf(await service.list({ state: 'resolved' }))).toEqual([ids[0]]);
    expect(idsOf(await service.list({ since: T0 + 2000 }))).toEqual([ids[0], ids[2]]);
    expect(idsOf(await service.list({ limit: 1 }))).toEqual([ids[0]]);
    expect(idsOf(await service.list({ communityIds: [] }))).toEqual([]);
    await service.close();
  });

  it('keeps alerts and their trail across a restart', async () => {
    const dataDir = tempDir();
    const first = await openService(dataDir);
    const { alert } = (await first.service.apply(raise()))!;
    await first.service.acknowledge(alert.id, 'us_li');
    await first.service.close();
    const second = await openService(dataDir);
    expect(await second.service.get(alert.id)).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'us_li',
    });
    expect(await second.service.history(alert.id)).toHaveLength(2);
    // Still one incident: a repeat after the restart updates the same alert.
    expect((await second.service.apply(raise()))!.alert.id).toBe(alert.id);
    await second.service.close();
  });

  it('refuses edits and deletions of the audit trail at the database', async () => {
    const { service, dataDir } = await openService();
    const { alert } = (await service.apply(raise()))!;
    await service.close();
    const db = new Database(alertsPath(dataDir));
    expect(() => db.prepare("UPDATE audit SET actor = 'someone'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(db.prepare('SELECT COUNT(*) AS n FROM audit WHERE alert_id = ?').get(alert.id)).toEqual({ n: 1 });
    db.close();
  });

  it('adopts an alerts.db made before per-owner migrations, keeping its alerts, and brings it up to date', async () => {
    // The file as the previous release left it: its list applied by hand, its version in user_version.
    const dataDir = tempDir();
    mkdirSync(dataDir, { recursive: true });
    const old = new Database(alertsPath(dataDir));
    for (const m of MIGRATIONS.slice(0, 2)) old.exec(m.sqlite!);
    old.pragma('user_version = 2');
    old
      .prepare(
        `INSERT INTO alerts (id, resident_id, rule_id, severity, state, opened_at, updated_at, summary, evidence,
           auto_clear) VALUES ('al_old', 'rs_1', 'gas.methane', 'alarm', 'open', ?, ?, 'old', '{}', 1)`,
      )
      .run(T0, T0);
    old.close();
    const { service } = await openService(dataDir);
    // Still the same incident: the new raise repeats the alert the old release opened.
    expect((await service.apply(raise()))!.alert).toMatchObject({ id: 'al_old', repeatCount: 1 });
    await service.close();
    const db = new Database(alertsPath(dataDir));
    expect(
      db.prepare("SELECT max(version) AS v FROM schema_migrations WHERE owner = 'alerts'").get(),
    ).toEqual({
      v: MIGRATIONS.length,
    });
    db.close();
  });

  it('refuses an alerts database newer than this code', async () => {
    const { service, dataDir } = await openService();
    await service.close();
    const db = new Database(alertsPath(dataDir));
    db.prepare(
      "INSERT INTO schema_migrations (owner, version, name, applied_at) VALUES ('alerts', 99, 'future', 0)",
    ).run();
    db.close();
    await expect(AlertService.open({ dataDir })).rejects.toThrow(/newer than this Anju knows/);
  });
});
