// The telemetry store contract as a test suite. Every backend runs it against a real database
// (sqlite.test.ts, influx.test.ts); a backend is done when it passes all of it.
import { afterEach, describe, expect, it } from 'vitest';
import { RefusedPointsError, type Point, type TelemetryStore } from './types.ts';

export interface StoreFactory {
  /** Opens a store on data set `name`: the same name opens the same data again, a new name an empty one. */
  open(name: string, options?: { retentionMs?: number }): Promise<TelemetryStore>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Ids that break naive escaping in line protocol, InfluxQL or SQL. */
export const AWKWARD_IDS = [
  'dev with spaces',
  'dev,with,commas',
  'dev=with=equals',
  'dev"double"quotes',
  "dev'single'quotes",
  'dev\\back\\slash',
  'ends with backslash\\',
  '\\,\\ \\= escaped-looking',
  '王奶奶的手环 中文',
  'percent %5C %25 sequences',
  'tab\tand\nnewline',
];

const INJECTIONS = [
  "x' OR '1'='1",
  "x' OR \"deviceId\"::tag =~ /.*/ OR 'a'='b",
  "victim'; DROP DATABASE anju; SELECT * FROM \"wearable\" WHERE 'a'='a",
  'x\\',
  "x\\' OR 1=1 --",
  '" OR 1=1 --',
  'victim\' OR "deviceId" = \'victim',
  '/.*/',
];

/** Wearable wb-1's reading number `i`: one a second from an hour before `now`, a heart rate unless `fields`. */
export function numberedReading(
  now: number,
  i: number,
  fields: Point['fields'] = { heartRate: 60 + (i % 40) },
): Point {
  return {
    measurement: 'wearable',
    tags: { deviceId: 'wb-1', residentId: 'res-1' },
    fields,
    ts: now - HOUR + i * 1000,
    seq: i,
  };
}

export function describeTelemetryStore(backend: string, factory: () => StoreFactory): void {
  describe(`telemetry store contract: ${backend}`, () => {
    const opened: TelemetryStore[] = [];
    let counter = 0;
    // Unique across files too: stores on a shared server (test/influxd-global.ts) must not meet.
    const run = Math.random().toString(36).slice(2, 8);
    const uniqueName = () => `conformance_${process.pid}_${run}_${++counter}`;

    async function freshStore(options?: { retentionMs?: number }): Promise<TelemetryStore> {
      const store = await factory().open(uniqueName(), options);
      opened.push(store);
      return store;
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    // Hour-aligned and recent, so windows are predictable and every point is inside any retention used here.
    const base = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR;
    let seq = 0;
    function point(p: Partial<Point> & { fields: Point['fields'] }): Point {
      return {
        measurement: 'wearable',
        tags: { deviceId: 'wb-1', residentId: 'res-1', homeId: 'home-1' },
        ts: base,
        seq: ++seq,
        ...p,
      };
    }
    const heartRates = (values: [number, number][], tags?: Point['tags']) =>
      values.map(([offset, heartRate]) =>
        point({ ts: base + offset, fields: { heartRate }, ...(tags ? { tags } : {}) }),
      );

    it('returns the raw readings of a device oldest first, from inclusive and to exclusive', async () => {
      const store = await freshStore();
      await store.write(
        heartRates([
          [3 * MINUTE, 73],
          [0, 70],
          [MINUTE, 71],
          [2 * MINUTE, 72],
          [4 * MINUTE, 74],
        ]),
      );
      const rows = await store.query({
        deviceId: 'wb-1',
        field: 'heartRate',
        from: base + MINUTE,
        to: base + 4 * MINUTE,
      });
      expect(rows).toEqual([
        { ts: base + MINUTE, value: 71 },
        { ts: base + 2 * MINUTE, value: 72 },
        { ts: base + 3 * MINUTE, value: 73 },
      ]);
    });

    it('returns the most recent readings first with order desc and a limit', async () => {
      const store = await freshStore();
      await store.write(
        heartRates([
          [0, 70],
          [MINUTE, 71],
          [2 * MINUTE, 72],
          [3 * MINUTE, 73],
        ]),
      );
      const rows = await store.query({
        deviceId: 'wb-1',
        field: 'heartRate',
        from: base,
        to: base + HOUR,
        order: 'desc',
        limit: 2,
      });
      expect(rows).toEqual([
        { ts: base + 3 * MINUTE, value: 73 },
        { ts: base + 2 * MINUTE, value: 72 },
      ]);
    });

    it('aggregates into windows labelled by their start, with mean, min, max and last', async () => {
      const store = await freshStore();
      // Window 1 [base, base+10m): 60, 90, 70 (last by time is 70). Window 2 [base+20m, ...): 100. None between.
      await store.write(
        heartRates([
          [MINUTE, 60],
          [5 * MINUTE, 70],
          [2 * MINUTE, 90],
          [21 * MINUTE, 100],
        ]),
      );
      const q = {
        deviceId: 'wb-1',
        field: 'heartRate',
        from: base,
        to: base + HOUR,
        every: 10 * MINUTE,
      } as const;
      const mean = await store.query({ ...q, fn: 'mean' });
      expect(mean.map((r) => r.ts)).toEqual([base, base + 20 * MINUTE]);
      expect(mean[0]!.value).toBeCloseTo(220 / 3, 9);
      expect(mean[1]!.value).toBe(100);
      expect(await store.query(q)).toEqual(mean);
      expect(await store.query({ ...q, fn: 'min' })).toEqual([
        { ts: base, value: 60 },
        { ts: base + 20 * MINUTE, value: 100 },
      ]);
      expect(await store.query({ ...q, fn: 'max' })).toEqual([
        { ts: base, value: 90 },
        { ts: base + 20 * MINUTE, value: 100 },
      ]);
      expect(await store.query({ ...q, fn: 'last' })).toEqual([
        { ts: base, value: 70 },
        { ts: base + 20 * MINUTE, value: 100 },
      ]);
      expect(await store.query({ ...q, fn: 'max', order: 'desc', limit: 1 })).toEqual([
        { ts: base + 20 * MINUTE, value: 100 },
      ]);
    });

    it('uses only numbers for mean, min and max, while last returns strings and booleans too', async () => {
      const store = await freshStore();
      await store.write([
        point({ ts: base, fields: { activity: 'light', worn: true } }),
        point({ ts: base + MINUTE, fields: { activity: 'still', worn: false } }),
      ]);
      const q = { deviceId: 'wb-1', from: base, to: base + HOUR, every: HOUR } as const;
      expect(await store.query({ ...q, field: 'activity', fn: 'mean' })).toEqual([]);
      expect(await store.query({ ...q, field: 'worn', fn: 'max' })).toEqual([]);
      expect(await store.query({ ...q, field: 'activity', fn: 'last' })).toEqual([
        { ts: base, value: 'still' },
      ]);
      expect(await store.query({ ...q, field: 'worn', fn: 'last' })).toEqual([{ ts: base, value: false }]);
      const raw = await store.query({ deviceId: 'wb-1', field: 'worn', from: base, to: base + HOUR });
      expect(raw).toEqual([
        { ts: base, value: true },
        { ts: base + MINUTE, value: false },
      ]);
    });

    it("answers a resident's query from all of that resident's devices and nobody else's", async () => {
      const store = await freshStore();
      await store.write([
        ...heartRates([[0, 70]], { deviceId: 'wb-1', residentId: 'res-1' }),
        ...heartRates([[MINUTE, 80]], { deviceId: 'wb-2', residentId: 'res-1' }),
        ...heartRates([[2 * MINUTE, 90]], { deviceId: 'wb-3', residentId: 'res-2' }),
        ...heartRates([[3 * MINUTE, 99]], { deviceId: 'wb-4' }),
      ]);
      const q = { residentId: 'res-1', field: 'heartRate', from: base, to: base + HOUR } as const;
      expect(await store.query(q)).toEqual([
        { ts: base, value: 70 },
        { ts: base + MINUTE, value: 80 },
      ]);
      expect(await store.query({ ...q, every: HOUR, fn: 'mean' })).toEqual([{ ts: base, value: 75 }]);
      expect(await store.query({ ...q, residentId: 'res-2' })).toEqual([
        { ts: base + 2 * MINUTE, value: 90 },
      ]);
      expect(await store.query({ ...q, deviceId: 'wb-4', residentId: undefined })).toEqual([
        { ts: base + 3 * MINUTE, value: 99 },
      ]);
    });

    it('treats a field sent in several measurements (battery in telemetry and heartbeats) as one series', async () => {
      const store = await freshStore();
      await store.write([
        point({ measurement: 'wearable', ts: base + MINUTE, fields: { battery: 80 } }),
        point({ measurement: 'heartbeat', ts: base + 2 * MINUTE, fields: { battery: 78, rssi: -60 } }),
        point({ measurement: 'wearable', ts: base + 3 * MINUTE, fields: { battery: 76 } }),
        point({ measurement: 'heartbeat', ts: base + 11 * MINUTE, fields: { battery: 70 } }),
        point({ measurement: 'wearable', ts: base + 12 * MINUTE, fields: { battery: 72 } }),
      ]);
      const q = { deviceId: 'wb-1', field: 'battery', from: base, to: base + HOUR } as const;
      expect((await store.query(q)).map((r) => r.value)).toEqual([80, 78, 76, 70, 72]);
      expect((await store.query({ ...q, order: 'desc', limit: 2 })).map((r) => r.value)).toEqual([72, 70]);
      const windows = { ...q, every: 10 * MINUTE } as const;
      const mean = await store.query({ ...windows, fn: 'mean' });
      expect(mean.map((r) => r.ts)).toEqual([base, base + 10 * MINUTE]);
      expect(mean[0]!.value).toBeCloseTo(78, 9);
      expect(mean[1]!.value).toBeCloseTo(71, 9);
      expect(await store.query({ ...windows, fn: 'min' })).toEqual([
        { ts: base, value: 76 },
        { ts: base + 10 * MINUTE, value: 70 },
      ]);
      expect(await store.query({ ...windows, fn: 'max' })).toEqual([
        { ts: base, value: 80 },
        { ts: base + 10 * MINUTE, value: 72 },
      ]);
      expect(await store.query({ ...windows, fn: 'last' })).toEqual([
        { ts: base, value: 76 },
        { ts: base + 10 * MINUTE, value: 72 },
      ]);
    });

    it('gives the latest value of every field with its time, by device and by resident', async () => {
      const store = await freshStore();
      await store.write([
        point({ ts: base, fields: { heartRate: 70, worn: true, activity: 'light', battery: 90 } }),
        point({ ts: base + MINUTE, fields: { heartRate: 72, worn: false } }),
        point({
          measurement: 'heartbeat',
          ts: base + 2 * MINUTE,
          fields: { battery: 88, firmware: '1.4.2' },
        }),
        point({
          tags: { deviceId: 'gs-1', residentId: 'res-1', gas: 'methane' },
          measurement: 'gas',
          ts: base + 3 * MINUTE,
          fields: { concentration: 3.5 },
        }),
        point({
          tags: { deviceId: 'wb-9', residentId: 'res-9' },
          ts: base + 9 * MINUTE,
          fields: { heartRate: 99 },
        }),
      ]);
      expect(await store.latest({ deviceId: 'wb-1' })).toEqual([
        { field: 'activity', ts: base, value: 'light' },
        { field: 'battery', ts: base + 2 * MINUTE, value: 88 },
        { field: 'firmware', ts: base + 2 * MINUTE, value: '1.4.2' },
        { field: 'heartRate', ts: base + MINUTE, value: 72 },
        { field: 'worn', ts: base + MINUTE, value: false },
      ]);
      const resident = await store.latest({ residentId: 'res-1' });
      expect(resident.map((l) => l.field)).toEqual([
        'activity',
        'battery',
        'concentration',
        'firmware',
        'heartRate',
        'worn',
      ]);
      expect(resident.find((l) => l.field === 'concentration')).toEqual({
        field: 'concentration',
        ts: base + 3 * MINUTE,
        value: 3.5,
      });
      expect(await store.latest({ deviceId: 'nobody' })).toEqual([]);
      // Many devices at once: the same values, and nothing for a device that never reported.
      const many = await store.latestByDevice(['wb-1', 'gs-1', 'nobody']);
      expect([...many.keys()].sort()).toEqual(['gs-1', 'wb-1']);
      expect(many.get('wb-1')).toEqual(await store.latest({ deviceId: 'wb-1' }));
      expect(many.get('gs-1')).toEqual([{ field: 'concentration', ts: base + 3 * MINUTE, value: 3.5 }]);
      expect(await store.latestByDevice([])).toEqual(new Map());
    });

    it('stores a reading written twice once, and a rewrite of the same reading replaces its values', async () => {
      const store = await freshStore();
      const reading = point({ ts: base, fields: { heartRate: 70, spo2: 97 } });
      await store.write([reading, reading]);
      await store.write([reading]);
      const q = { deviceId: 'wb-1', field: 'heartRate', from: base, to: base + HOUR } as const;
      expect(await store.query(q)).toEqual([{ ts: base, value: 70 }]);
      await store.write([{ ...reading, fields: { heartRate: 71 } }]);
      expect(await store.query(q)).toEqual([{ ts: base, value: 71 }]);
      expect(await store.query({ ...q, field: 'spo2' })).toEqual([{ ts: base, value: 97 }]);
      expect(await store.query({ ...q, every: HOUR, fn: 'mean' })).toEqual([{ ts: base, value: 71 }]);
    });

    it('refuses the bad points of a batch, names them, and stores the good ones', async () => {
      const store = await freshStore();
      await store.write([point({ ts: base, fields: { heartRate: 70 } })]);
      const batch = [
        point({ ts: base + 1 * MINUTE, fields: { heartRate: 71 } }),
        point({ ts: base + 2 * MINUTE, fields: { heartRate: Number.NaN } }),
        point({ ts: base + 3 * MINUTE, fields: { heartRate: 73 } }),
        point({ ts: base + 4 * MINUTE, fields: { heartRate: 'high' } }),
        point({ ts: base + 5 * MINUTE, fields: { heartRate: Number.POSITIVE_INFINITY } }),
        point({ ts: base + 6 * MINUTE, fields: {} }),
        point({ ts: base + 7 * MINUTE, fields: { time: 1 } }),
        { ...point({ ts: base + 8 * MINUTE, fields: { heartRate: 78 } }), tags: { deviceId: '' } },
        point({ ts: base + 9 * MINUTE, fields: { heartRate: 79 } }),
      ];
      const error = await store.write(batch).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(RefusedPointsError);
      const refused = error as RefusedPointsError;
      expect(refused.refused.map((r) => r.index)).toEqual([1, 3, 4, 5, 6, 7]);
      expect(refused.stored).toBe(3);
      expect(refused.refused[1]!.reason).toMatch(/heartRate/);
      const rows = await store.query({ deviceId: 'wb-1', field: 'heartRate', from: base, to: base + HOUR });
      expect(rows.map((r) => r.value)).toEqual([70, 71, 73, 79]);
    });

    it('keeps refusing a field type change after the store is reopened', async () => {
      const name = uniqueName();
      const first = await factory().open(name);
      opened.push(first);
      await first.write([point({ ts: base, fields: { heartRate: 70 } })]);
      await first.close();
      const second = await factory().open(name);
      opened.push(second);
      await expect(
        second.write([point({ ts: base + MINUTE, fields: { heartRate: 'high' } })]),
      ).rejects.toThrow(RefusedPointsError);
      expect(
        await second.query({ deviceId: 'wb-1', field: 'heartRate', from: base, to: base + HOUR }),
      ).toEqual([{ ts: base, value: 70 }]);
    });

    it('round-trips ids, tags, field names and strings with spaces, commas, =, quotes, backslashes and 中文', async () => {
      const store = await freshStore();
      const points = AWKWARD_IDS.map((id, i) =>
        point({
          measurement: 'event',
          tags: { deviceId: id, residentId: `住户 ${id}`, homeId: id, type: id },
          ts: base + i * MINUTE,
          fields: { [`field ${id}`]: i, note: `note "${id}" \\' end\\` },
        }),
      );
      await store.write(points);
      const many = await store.latestByDevice(AWKWARD_IDS);
      for (const [i, id] of AWKWARD_IDS.entries()) {
        expect(many.get(id), id).toEqual([
          { field: `field ${id}`, ts: base + i * MINUTE, value: i },
          { field: 'note', ts: base + i * MINUTE, value: `note "${id}" \\' end\\` },
        ]);
        const q = { field: `field ${id}`, from: base, to: base + HOUR } as const;
        expect(await store.query({ ...q, deviceId: id }), id).toEqual([{ ts: base + i * MINUTE, value: i }]);
        expect(await store.query({ ...q, residentId: `住户 ${id}`, every: HOUR, fn: 'max' }), id).toEqual([
          { ts: base, value: i },
        ]);
        expect(await store.latest({ deviceId: id }), id).toEqual([
          { field: `field ${id}`, ts: base + i * MINUTE, value: i },
          { field: 'note', ts: base + i * MINUTE, value: `note "${id}" \\' end\\` },
        ]);
      }
    });

    it('returns nothing for an injection attempt in an id or a field name, and harms no data', async () => {
      const store = await freshStore();
      await store.write(
        heartRates(
          [
            [0, 70],
            [MINUTE, 71],
          ],
          { deviceId: 'victim', residentId: 'victim' },
        ),
      );
      const q = { from: base, to: base + HOUR } as const;
      for (const attempt of INJECTIONS) {
        expect(await store.query({ ...q, deviceId: attempt, field: 'heartRate' }), attempt).toEqual([]);
        expect(
          await store.query({ ...q, residentId: attempt, field: 'heartRate', every: HOUR, fn: 'last' }),
        ).toEqual([]);
        expect(await store.query({ ...q, deviceId: 'victim', field: attempt })).toEqual([]);
        expect(await store.latest({ deviceId: attempt })).toEqual([]);
        expect(await store.latest({ residentId: attempt })).toEqual([]);
      }
      expect(await store.latestByDevice(INJECTIONS)).toEqual(new Map());
      expect(await store.query({ ...q, deviceId: 'victim', field: 'heartRate' })).toEqual([
        { ts: base, value: 70 },
        { ts: base + MINUTE, value: 71 },
      ]);
    });

    it('refuses points older than the retention period and stores the rest', async () => {
      const store = await freshStore({ retentionMs: 2 * HOUR });
      const now = Date.now();
      const error = await store
        .write([
          point({ ts: now - 3 * HOUR, fields: { heartRate: 60 } }),
          point({ ts: now - 30 * MINUTE, fields: { heartRate: 61 } }),
        ])
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(RefusedPointsError);
      expect((error as RefusedPointsError).refused.map((r) => r.index)).toEqual([0]);
      const rows = await store.query({ deviceId: 'wb-1', field: 'heartRate', from: now - 4 * HOUR, to: now });
      expect(rows).toEqual([{ ts: now - 30 * MINUTE, value: 61 }]);
    });

    it('deletes points older than the cutoff when retention is applied, and forgets their latest values', async () => {
      const store = await freshStore();
      await store.write([
        point({ ts: base, fields: { heartRate: 70, spo2: 95 } }),
        point({ ts: base + HOUR, fields: { heartRate: 71 } }),
        point({ ts: base + 2 * HOUR, fields: { heartRate: 72 } }),
      ]);
      await store.applyRetention(base + HOUR);
      const rows = await store.query({
        deviceId: 'wb-1',
        field: 'heartRate',
        from: base,
        to: base + 3 * HOUR,
      });
      expect(rows.map((r) => r.value)).toEqual([71, 72]);
      expect(await store.latest({ deviceId: 'wb-1' })).toEqual([
        { field: 'heartRate', ts: base + 2 * HOUR, value: 72 },
      ]);
    });

    it('rejects a query without exactly one of device and resident, or with from after to', async () => {
      const store = await freshStore();
      const q = { field: 'heartRate', from: base, to: base + HOUR };
      await expect(store.query(q)).rejects.toThrow(/exactly one/);
      await expect(store.query({ ...q, deviceId: 'a', residentId: 'b' })).rejects.toThrow(/exactly one/);
      await expect(store.query({ ...q, deviceId: 'a', to: base })).rejects.toThrow(/before/);
      await expect(store.latest({})).rejects.toThrow(/exactly one/);
    });

    it('reports itself healthy while it answers, and unhealthy once closed', async () => {
      const store = await freshStore();
      const health = await store.health();
      expect(health).toMatchObject({ ok: true, backend: store.backend });
      await store.close();
      expect(await store.health()).toMatchObject({ ok: false });
      await expect(store.write([point({ fields: { heartRate: 70 } })])).rejects.toThrow(/closed/);
    });
  });
}
