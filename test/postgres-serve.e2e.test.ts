// `anju serve --database postgres://...` end to end: two Anju processes (here: two servers in this
// process, each with its own data directory, as on two machines) share one real PostgreSQL. A device
// registered on one connects to the other; its SOS, taken by the second, is an alert both see, and staff
// signed in on one are signed in on the other.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import { PostgresDatabase } from '../database/postgres.ts';
import { browser, json, ADMIN_PASSWORD } from '../dashboard/test-support.ts';
import { connectDevice, startTestAnju, waitFor, type TestAnju } from './harness.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';

let pg: PostgresServer;
let url: string;
let a: TestAnju;
let b: TestAnju;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('anju');
  a = await startTestAnju({ database: url, adminPassword: ADMIN_PASSWORD });
  b = await startTestAnju({ database: url, adminPassword: ADMIN_PASSWORD });
}, 60_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await pg?.stop();
});

it('keeps the registry, the alerts and the sign-ins of two Anju processes in one PostgreSQL', async () => {
  const resident = await a.registry.addResident({
    name: '王秀英',
    livesAlone: true,
    address: { community: '梅花社区', compound: '一区', building: '3幢', home: '2-301' },
  });
  const { secret } = await a.registry.addDevice({ id: 'W-PG-1', kind: 'wearable', residentId: resident.id });

  // The device registered through A signs in at B, and B's rules know whose it is.
  const device = await connectDevice(b, { id: 'W-PG-1', secret });
  await device.publishAsync(
    topicFor('W-PG-1', 'event'),
    JSON.stringify({ ts: Date.now(), seq: 1, type: 'sos' }),
    {
      qos: 1,
    },
  );
  await device.endAsync();
  const onB = await waitFor(
    async () => (await b.alerting.alerts.list({ residentIds: [resident.id] }))[0],
    15_000,
  );
  expect(onB).toMatchObject({ ruleId: 'event.sos', state: 'open', communityId: resident.home.communityId });
  expect((await a.alerting.alerts.get(onB.id))?.ruleId).toBe('event.sos');

  // Stored in PostgreSQL, and nothing of it in either data directory's SQLite files.
  const db = new PostgresDatabase(url);
  try {
    expect(await db.one('SELECT rule_id FROM alerts WHERE id = ?', [onB.id])).toEqual({
      rule_id: 'event.sos',
    });
  } finally {
    await db.close();
  }

  // An admin signed in on A (the first admin was created once, by whichever started first) takes it on at B.
  const adminOnA = await browser(a);
  expect((await adminOnA.signIn('admin', ADMIN_PASSWORD)).status).toBe(200);
  const adminOnB = await browser(b);
  expect((await adminOnB.signIn('admin', ADMIN_PASSWORD)).status).toBe(200);
  const taken = await adminOnB.post(`/api/v1/alerts/${onB.id}/acknowledge`, { note: 'on my way' });
  expect(taken.status).toBe(200);
  const seenOnA = await json<{ alert: { state: string } }>(await adminOnA.get(`/api/v1/alerts/${onB.id}`));
  expect(seenOnA.alert.state).toBe('acknowledged');
  // The same acknowledge again, at A, is refused: the alert changed meanwhile.
  expect((await adminOnA.post(`/api/v1/alerts/${onB.id}/acknowledge`, {})).status).toBe(409);
});
