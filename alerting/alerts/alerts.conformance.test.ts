// One suite, both backends: what AlertService and its store promise on a fresh SQLite file and on a fresh
// PostgreSQL database alike (lifecycle, trail, listing, escalation and outbox), and what the database
// itself refuses whatever code writes to it.
import { expect, it } from 'vitest';
import { migrate } from '../../database/migrations.ts';
import { isCheckViolation, isUniqueViolation, type Database, type Sql } from '../../database/sql.ts';
import { eachBackend } from '../../test/backends.ts';
import { ALERTS_SCHEMA } from './migrations.ts';
import { parseEscalationPolicies } from './policy.ts';
import { AlertError, type AlertChange } from './schemas.ts';
import { AlertService } from './service.ts';
import {
  clear,
  EMAIL_DAUGHTER_DIRECTORY as directory,
  raise,
  RecordingChannel,
  settableClock,
  T0,
} from './test-support.ts';

const MIN = 60_000;

const policies = parseEscalationPolicies(`
  default:
    steps:
      - { afterMin: 0, notify: [console] }
      - { afterMin: 2, notify: [family] }
    renotifyEveryMin: 10
`);

eachBackend('alerts', (backend) => {
  async function open(db?: Database) {
    const database = db ?? (await backend.fresh());
    await migrate(database, [ALERTS_SCHEMA]);
    const clock = settableClock();
    const socket = new RecordingChannel('socketio');
    const email = new RecordingChannel('email');
    const service = await AlertService.open({
      db: database,
      clock,
      directory,
      policies,
      channels: [socket, email],
    });
    const changes: AlertChange[] = [];
    service.onChange((c) => changes.push(c));
    return { db: database, service, clock, socket, email, changes };
  }

  it('opens one alert per incident: a repeat raises its severity, never lowers it, and a clear resolves it', async () => {
    const { service, clock, changes } = await open();
    const opened = (await service.apply(raise({ severity: 'warning' })))!;
    expect(opened).toMatchObject({ type: 'new', alert: { state: 'open', communityId: 'cm_a' } });
    clock.set(T0 + 1000);
    const rose = (await service.apply(raise({ severity: 'critical', summary: 'worse' })))!;
    clock.set(T0 + 2000);
    const repeated = (await service.apply(raise({ severity: 'warning', summary: 'milder' })))!;
    expect(repeated.alert).toMatchObject({
      id: opened.alert.id,
      severity: 'critical',
      summary: 'worse',
      repeatCount: 2,
      updatedAt: T0 + 2000,
    });
    expect(rose.audit.action).toBe('severity_raised');
    clock.set(T0 + 3000);
    const cleared = (await service.apply(clear()))!;
    expect(cleared.alert).toMatchObject({ state: 'resolved', resolvedBy: 'system', resolvedAt: T0 + 3000 });
    expect(await service.apply(clear())).toBeUndefined();
    // A raise after the resolution is a new incident.
    const again = (await service.apply(raise()))!;
    expect(again.type).toBe('new');
    expect(again.alert.id).not.toBe(opened.alert.id);
    expect((await service.history(opened.alert.id)).map((e) => e.action)).toEqual([
      'opened',
      'severity_raised',
      'repeated',
      'auto_resolved',
    ]);
    expect(changes.map((c) => c.type)).toEqual(['new', 'update', 'update', 'update', 'new']);
  });

  it('opens an alert in one statement on PostgreSQL (one transaction on SQLite), asking the registry nothing when the community is known', async () => {
    const raw = await backend.fresh();
    await migrate(raw, [ALERTS_SCHEMA]);
    const statements: string[] = [];
    const counted = (sql: Sql): Sql => ({
      dialect: sql.dialect,
      all: (text, params) => (statements.push(text), sql.all(text, params)),
      one: (text, params) => (statements.push(text), sql.one(text, params)),
      run: (text, params) => (statements.push(text), sql.run(text, params)),
      exec: (script) => (statements.push(script), sql.exec(script)),
      transaction: (fn) => (statements.push('BEGIN'), sql.transaction((tx) => fn(counted(tx)))),
    });
    let asked = 0;
    const service = await AlertService.open({
      db: { ...counted(raw), location: raw.location, close: () => raw.close() },
      clock: settableClock(),
      directory: {
        resident: (id) => (asked++, directory.resident(id)),
        communityOf: (id) => (id === 'rs_1' ? 'cm_a' : undefined),
      },
      policies,
    });
    const opened = (await service.apply(raise({ residentId: 'rs_1' })))!;
    expect(opened).toMatchObject({
      type: 'new',
      alert: { communityId: 'cm_a' },
      audit: { action: 'opened' },
    });
    expect(asked).toBe(0);
    expect(statements.filter((s) => s === 'BEGIN')).toHaveLength(backend.name === 'postgres' ? 0 : 1);
    if (backend.name === 'postgres') expect(statements).toHaveLength(1);
    // What the one statement wrote: the alert, its trail and its first escalation step.
    expect(await service.history(opened.alert.id)).toEqual([opened.audit]);
    expect(await service.nextEscalationAt()).toBe(T0);
    // A resident whose community is not in memory is asked for.
    expect((await service.apply(raise({ residentId: 'rs_3' })))!.alert.communityId).toBe('cm_b');
    expect(asked).toBe(1);
    await service.close();
  });

  it('applies signals in the order they came, even when nobody awaits them one by one', async () => {
    const { service } = await open();
    const all = await Promise.all([
      service.apply(raise({ severity: 'warning' })),
      service.apply(raise({ severity: 'alarm' })),
      service.apply(clear()),
      service.apply(raise({ severity: 'info' })),
    ]);
    expect(all.map((c) => [c?.type, c?.alert.state])).toEqual([
      ['new', 'open'],
      ['update', 'open'],
      ['update', 'resolved'],
      ['new', 'open'],
    ]);
    // A clear of a raise that a person must close is recorded, and the alert stays open.
    const sos = (await service.apply(raise({ ruleId: 'event.sos', autoClear: false })))!;
    const kept = (await service.apply(clear({ ruleId: 'event.sos' })))!;
    expect(kept.alert).toMatchObject({ id: sos.alert.id, state: 'open' });
    expect(kept.audit.action).toBe('condition_cleared');
  });

  it('acknowledges, notes and resolves with the person as actor, and refuses what does not fit', async () => {
    const { service, clock } = await open();
    const { alert } = (await service.apply(raise()))!;
    clock.set(T0 + 30_000);
    expect(await service.acknowledge(alert.id, 'us_li', '我去看看')).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'us_li',
      acknowledgedAt: T0 + 30_000,
      note: '我去看看',
    });
    await expect(service.acknowledge(alert.id, 'us_zhao')).rejects.toMatchObject({ code: 'conflict' });
    // A repeat while someone is on it keeps the person's state and note.
    expect((await service.apply(raise()))!.alert).toMatchObject({ state: 'acknowledged', repeatCount: 1 });
    expect(await service.addNote(alert.id, 'us_li', 'valve closed')).toMatchObject({ note: 'valve closed' });
    clock.set(T0 + 600_000);
    const resolved = await service.resolve(alert.id, 'us_li', 'false_alarm', 'steam');
    expect(resolved).toMatchObject({ state: 'resolved', outcome: 'false_alarm', resolvedAt: T0 + 600_000 });
    await expect(service.resolve(alert.id, 'us_li', 'other')).rejects.toMatchObject({ code: 'conflict' });
    await expect(service.addNote('al_missing', 'us_li', 'x')).rejects.toMatchObject({ code: 'not_found' });
    await expect(service.resolve(alert.id, 'us_li', 'oops' as never)).rejects.toBeInstanceOf(AlertError);
    await expect(service.apply({ ...raise(), severity: 'huge' } as never)).rejects.toMatchObject({
      code: 'invalid_input',
    });
    expect((await service.history(alert.id)).map((e) => [e.action, e.actor])).toEqual([
      ['opened', 'system'],
      ['acknowledged', 'us_li'],
      ['repeated', 'system'],
      ['note', 'us_li'],
      ['resolved', 'us_li'],
    ]);
    expect(await service.get(alert.id)).toEqual(resolved);
  });

  it('lists by resident, community, state and time, most recently updated first, up to the limit', async () => {
    const { service, clock } = await open();
    const ids: string[] = [];
    for (const [i, residentId] of ['rs_1', 'rs_2', 'rs_3'].entries()) {
      clock.set(T0 + i * 1000);
      ids.push((await service.apply(raise({ residentId })))!.alert.id);
    }
    clock.set(T0 + 5000);
    await service.resolve(ids[0]!, 'us_li', 'other');
    const list = async (filter: Parameters<AlertService['list']>[0]) =>
      (await service.list(filter)).map((a) => a.id);
    expect(await list({})).toEqual([ids[0], ids[2], ids[1]]);
    expect(await list({ residentIds: ['rs_2', 'rs_3'] })).toEqual([ids[2], ids[1]]);
    expect(await list({ residentIds: [] })).toEqual([]);
    expect(await list({ communityIds: ['cm_a'] })).toEqual([ids[0], ids[1]]);
    expect(await list({ state: 'active' })).toEqual([ids[2], ids[1]]);
    expect(await list({ state: 'resolved' })).toEqual([ids[0]]);
    expect(await list({ since: T0 + 1000 })).toEqual([ids[0], ids[2], ids[1]]);
    expect(await list({ since: T0 + 1001 })).toEqual([ids[0], ids[2]]);
    expect(await list({ limit: 1 })).toEqual([ids[0]]);
    await expect(service.list({ limit: 0 })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('searches by resident or device id (case and % _ literal) and by severity', async () => {
    const { service } = await open();
    const sos = (await service.apply(
      raise({ residentId: 'rs_1', ruleId: 'event.sos', severity: 'critical', deviceId: 'W-Wang_1' }),
    ))!.alert;
    const gas = (await service.apply(raise({ residentId: 'rs_2', deviceId: 'GAS-2%' })))!.alert;
    const other = (await service.apply(raise({ residentId: 'rs_3', deviceId: null })))!.alert;
    const list = async (filter: Parameters<AlertService['list']>[0]) =>
      (await service.list(filter)).map((a) => a.id).sort();
    const matching = (residentIds: string[], deviceId: string) => ({ matching: { residentIds, deviceId } });
    expect(await list(matching([], 'w-wang'))).toEqual([sos.id]);
    expect(await list(matching([], '_'))).toEqual([sos.id]);
    expect(await list(matching([], '%'))).toEqual([gas.id]);
    expect(await list(matching(['rs_3'], 'nothing'))).toEqual([other.id]);
    expect(await list(matching(['rs_3'], 'gas'))).toEqual([gas.id, other.id].sort());
    expect(await list({ ...matching(['rs_3'], 'gas'), communityIds: ['cm_a'] })).toEqual([gas.id]);
    expect(await list({ severity: 'critical' })).toEqual([sos.id]);
    expect(await list({ severity: 'info' })).toEqual([]);
  });

  it('pages most recently updated first without repeats or gaps while alerts open and change meanwhile', async () => {
    const { service, clock } = await open();
    const ids: string[] = [];
    // Several alerts share an update time: the id orders them.
    for (let i = 0; i < 11; i++) {
      clock.set(T0 + Math.floor(i / 3) * 1000);
      ids.push((await service.apply(raise({ residentId: `rs_${i}`, at: T0 })))!.alert.id);
    }
    const seen: string[] = [];
    let after: { updatedAt: number; id: string } | undefined;
    for (let page = 0; ; page++) {
      const found = await service.list({ limit: 4, after });
      if (page === 0) {
        // A new alert sorts before the cursor: later pages neither repeat nor skip anything for it.
        clock.set(T0 + 60_000);
        await service.apply(raise({ residentId: 'rs_new', at: T0 }));
      }
      seen.push(...found.map((a) => a.id));
      if (found.length < 4) break;
      after = found.at(-1)!;
    }
    const before = (await service.list({ limit: 100 })).filter((a) => a.residentId !== 'rs_new');
    expect(seen).toEqual(before.map((a) => a.id));
    expect(new Set(seen)).toEqual(new Set(ids));
  });

  it('escalates step by step through the outbox, records each delivery, and stops when acknowledged', async () => {
    const { service, socket, email } = await open();
    const { alert } = (await service.apply(raise()))!;
    expect(await service.nextEscalationAt()).toBe(T0);
    await service.advanceTo(T0);
    expect(socket.sent.map((n) => n.recipient.address)).toEqual(['community:cm_a']);
    expect(await service.nextEscalationAt()).toBe(T0 + 2 * MIN);
    await service.advanceTo(T0 + 2 * MIN);
    expect(email.sent.map((n) => n.recipient.address)).toEqual(['rs_1@example.org']);
    expect(await service.nextEscalationAt()).toBe(T0 + 12 * MIN);
    // Running the same time again sends nothing twice.
    await service.advanceTo(T0 + 2 * MIN);
    expect(socket.sent.length + email.sent.length).toBe(2);
    expect((await service.deliveries(alert.id)).map((d) => [d.channel, d.recipient, d.step, d.ok])).toEqual([
      ['socketio', 'console:cm_a', 0, true],
      ['email', 'contact:ct_rs_1', 1, true],
    ]);
    expect((await service.get(alert.id))!.escalationStep).toBe(1);
    await service.acknowledge(alert.id, 'us_li');
    expect(await service.nextEscalationAt()).toBeNull();
    await service.advanceTo(T0 + 60 * MIN);
    expect(socket.sent.length + email.sent.length).toBe(2);
    expect((await service.history(alert.id)).map((e) => e.action)).toEqual([
      'opened',
      'escalated',
      'escalated',
      'acknowledged',
    ]);
  });

  it('sends after a restart what an earlier service decided but did not send', async () => {
    const first = await open();
    const { alert } = (await first.service.apply(raise()))!;
    // Decided (in the outbox), not sent: the first service stops before its channel is called.
    await first.db.transaction(async (tx) => {
      await tx.run('UPDATE escalations SET due_at = NULL WHERE alert_id = ?', [alert.id]);
      await tx.run(`INSERT INTO outbox (alert_id, step, round, at, recipient) VALUES (?, 0, 0, ?, ?)`, [
        alert.id,
        T0,
        JSON.stringify({
          kind: 'console',
          id: 'cm_a',
          name: 'console',
          channel: 'socketio',
          address: 'community:cm_a',
          language: 'zh-CN',
        }),
      ]);
    });
    await first.service.close();
    const second = await open(first.db);
    await second.service.advanceTo(T0);
    await second.service.advanceTo(T0 + MIN);
    expect(second.socket.sent.map((n) => n.recipient.address)).toEqual(['community:cm_a']);
    await second.service.close();
  });

  it('keeps the audit trail append-only and one unresolved alert per resident and rule, in the database', async () => {
    const { service, db } = await open();
    const { alert } = (await service.apply(raise()))!;
    const refused = async (sql: string, params: (string | number)[] = []) => {
      try {
        await db.run(sql, params);
      } catch (err) {
        return err;
      }
      throw new Error(`not refused: ${sql}`);
    };
    for (const sql of ["UPDATE audit SET actor = 'someone'", 'DELETE FROM audit']) {
      const err = await refused(sql);
      expect(isCheckViolation(err), String(err)).toBe(true);
      expect(String(err)).toMatch(/append-only/);
    }
    expect(await service.history(alert.id)).toHaveLength(1);
    const err = await refused(
      `INSERT INTO alerts (id, resident_id, rule_id, severity, state, opened_at, updated_at, summary, evidence,
         auto_clear) VALUES ('al_twin', 'rs_1', 'gas.methane', 'alarm', 'open', ?, ?, 'twin', '{}', 1)`,
      [T0, T0],
    );
    expect(isUniqueViolation(err)).toBe(true);
  });
});
