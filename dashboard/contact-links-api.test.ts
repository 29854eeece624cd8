// The admin's side of people, not records: linking an account to the contact it stands for over HTTP,
// and what is refused (another family's contact, doubles, non-admins, unknown users).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-app.ts';
import { addCommunity, ADMIN_PASSWORD, json, signedIn, signedInAdmin } from './test-support.ts';

let anju: TestApp;
beforeAll(async () => {
  anju = await startTestApp({ adminPassword: ADMIN_PASSWORD });
});
afterAll(async () => {
  await anju?.stop();
});

describe('contact links', () => {
  it("links a family account to their relative's contact only, once, and unlinks it", async () => {
    const { residents } = await addCommunity(anju, 'Linked', 2);
    const [mine, theirs] = residents;
    const daughter = await anju.registry.addContact({
      residentId: mine!.id,
      name: '王丽',
      relation: 'family',
      phone: '13800000001',
      channels: ['sms'],
    });
    const stranger = await anju.registry.addContact({
      residentId: theirs!.id,
      name: '李明',
      relation: 'family',
      phone: '13800000002',
      channels: ['sms'],
    });
    const family = await signedIn(anju, 'family', { residents: [mine!.id] });
    const admin = await signedInAdmin(anju);
    const path = `/api/v1/users/${family.userId}/contact`;

    expect((await admin.put(path, { contactId: stranger.id })).status).toBe(400);
    expect((await family.put(path, { contactId: daughter.id })).status).toBe(403);
    expect((await admin.put('/api/v1/users/us_nobody/contact', { contactId: daughter.id })).status).toBe(404);
    expect((await admin.put(path, { contactId: 42 })).status).toBe(400);

    const linked = await admin.put(path, { contactId: daughter.id });
    expect(linked.status).toBe(200);
    expect((await json<{ link: unknown }>(linked)).link).toMatchObject({
      userId: family.userId,
      contactId: daughter.id,
    });
    const twice = await admin.put(path, { contactId: daughter.id });
    expect(twice.status).toBe(409);
    expect(twice.headers.get('content-type')).toContain('application/problem+json');
    const list = await json<{ links: { userId: string; contactId: string }[] }>(
      await admin.get('/api/v1/contact-links'),
    );
    expect(list.links).toEqual([expect.objectContaining({ userId: family.userId, contactId: daughter.id })]);
    expect((await family.get('/api/v1/contact-links')).status).toBe(403);

    expect((await admin.request('DELETE', path)).status).toBe(204);
    expect((await admin.request('DELETE', path)).status).toBe(404);
    expect(await anju.accounts.contactLinks.ofUser(family.userId)).toBeUndefined();
  });
});
