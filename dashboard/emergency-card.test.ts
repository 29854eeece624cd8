// The emergency card over HTTP: who may read and write it, that every reading is logged with who read
// it, and that the photo is a real JPEG or PNG of bounded size served as what it is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-app.ts';
import { addCommunity, browser, json, signedIn, type Browser, type Community } from './test-support.ts';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64)]);

let anju: TestApp;
let north: Community;
let south: Community;
let staff: Browser & { userId: string };
let family: Browser & { userId: string };
let otherFamily: Browser & { userId: string };
let southStaff: Browser & { userId: string };
let residentId: string;
const card = (id: string) => `/api/v1/residents/${id}/emergency-card`;

interface CardBody {
  card: Record<string, unknown>;
  contacts: { name: string; phone: string | null }[];
  access: { at: number; actor: string }[];
  people: Record<string, { name: string; role: string }>;
}

function upload(tab: Browser, path: string, body: Buffer, type: string) {
  return tab.request('PUT', path, undefined, { raw: body, headers: { 'content-type': type } });
}

beforeAll(async () => {
  anju = await startTestApp();
  north = await addCommunity(anju, 'North');
  south = await addCommunity(anju, 'South');
  residentId = north.residents[0]!.id;
  await anju.registry.addContact({ residentId, name: '王磊', relation: 'family', phone: '+8613900000001' });
  staff = await signedIn(anju, 'staff', { communities: [north.id] });
  southStaff = await signedIn(anju, 'staff', { communities: [south.id] });
  family = await signedIn(anju, 'family', { residents: [residentId] });
  otherFamily = await signedIn(anju, 'family', { residents: [north.residents[1]!.id] });
});
afterAll(async () => {
  await anju.stop();
});

describe('the emergency card', () => {
  it('is written by staff and read by the family, with click-to-call numbers for each contact', async () => {
    const put = await staff.put(card(residentId), {
      phone: '13800000000',
      medications: '氨氯地平 5mg 每早',
      allergies: '青霉素',
      doctorName: '李医生',
      doctorPhone: '+862161234567',
      keySafe: '门口左侧钥匙盒',
    });
    expect(put.status).toBe(200);
    const res = await family.get(card(residentId));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const body = await json<CardBody>(res);
    expect(body.card).toMatchObject({
      phone: '+8613800000000',
      allergies: '青霉素',
      updatedBy: staff.userId,
    });
    expect(body.contacts).toEqual([{ name: '王磊', relation: 'family', phone: '+8613900000001' }]);
    expect(body.people[staff.userId]).toMatchObject({ role: 'staff' });
  });

  it('records who opened it when, newest first, with their names', async () => {
    await staff.get(card(residentId));
    const body = await json<CardBody>(await family.get(card(residentId)));
    expect(body.access[0]!.actor).toBe(family.userId);
    expect(body.access[1]!.actor).toBe(staff.userId);
    expect(body.access[0]!.at).toBeGreaterThanOrEqual(body.access[1]!.at);
    expect(body.people[family.userId]).toMatchObject({ role: 'family' });
  });

  it('is not for family to write, nor for anyone outside the resident', async () => {
    expect((await family.put(card(residentId), { allergies: '无' })).status).toBe(403);
    expect((await otherFamily.get(card(residentId))).status).toBe(403);
    expect((await southStaff.get(card(residentId))).status).toBe(403);
    expect((await southStaff.put(card(residentId), { allergies: '无' })).status).toBe(403);
    expect((await upload(family, `${card(residentId)}/photo`, PNG, 'image/png')).status).toBe(403);
    const body = await json<CardBody>(await staff.get(card(residentId)));
    expect(body.card.allergies).toBe('青霉素');
    // A refused reader is not logged as having opened the card.
    expect(body.access.map((a) => a.actor)).not.toContain(otherFamily.userId);
    expect(body.access.map((a) => a.actor)).not.toContain(southStaff.userId);
    expect(body.access).toHaveLength(4);
  });

  it('refuses hostile input with problem JSON and changes nothing', async () => {
    for (const bad of [
      JSON.stringify({ allergies: 'a\u0000b' }),
      JSON.stringify({ phone: '<b>1</b>' }),
      JSON.stringify({ allergies: 'x'.repeat(1001) }),
      JSON.stringify({ unknown: 1 }),
      '{"__proto__":{"admin":true},"allergies":"无"}',
      '{"allergies":',
    ]) {
      const res = await staff.request('PUT', card(residentId), undefined, { raw: bad });
      expect(res.status, bad).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    const { token } = await anju.registry.tokens.create('test');
    const missing = await browser(anju).request('GET', card('rs_nobody'), undefined, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(missing.status).toBe(404);
    expect((await json<CardBody>(await staff.get(card(residentId)))).card.allergies).toBe('青霉素');
  });

  it('keeps a PNG photo and serves it as image/png that browsers may not sniff', async () => {
    expect((await upload(staff, `${card(residentId)}/photo`, PNG, 'image/png')).status).toBe(204);
    const res = await family.get(`${card(residentId)}/photo`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG);
    expect((await json<CardBody>(await family.get(card(residentId)))).card.hasPhoto).toBe(true);
  });

  it('refuses an image that is not one, an unknown type and one over 512 KB', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>');
    const cases: [Buffer, string, number][] = [
      [svg, 'image/png', 415],
      [svg, 'image/svg+xml', 415],
      [Buffer.concat([PNG, Buffer.alloc(512 * 1024)]), 'image/png', 413],
      [Buffer.alloc(0), 'image/jpeg', 400],
    ];
    for (const [body, type, status] of cases) {
      const res = await upload(staff, `${card(residentId)}/photo`, body, type);
      expect(res.status, `${type} ${body.length}`).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    const res = await staff.get(`${card(residentId)}/photo`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG);
  });

  it('lets staff remove the photo', async () => {
    expect((await staff.request('DELETE', `${card(residentId)}/photo`)).status).toBe(204);
    expect((await staff.get(`${card(residentId)}/photo`)).status).toBe(404);
  });
});
