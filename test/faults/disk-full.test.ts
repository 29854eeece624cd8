// Disk full (issue 17): the data directory on a 20 MB tmpfs, filled by a file while devices publish.
// Anju must refuse readings without PUBACK, stay up, say so on /healthz, /metrics, its log and the staff
// console, and take readings again within seconds of the file's deletion, with no restart.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, rmSync, openSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  alive,
  cleanupList,
  expectEveryAckedStoredOnce,
  health,
  metricsText,
  metricValue,
  publishUntilStopped,
  removeDir,
  serveFleet,
  spawnAnju,
  startUnderLoad,
  tempDir,
  waitFor,
  type AnjuProcess,
} from './support.ts';

const MB = 1024 * 1024;
const cleanups = cleanupList();
afterEach(() => cleanups.run());

let mountPoint: string;
beforeAll(() => {
  mountPoint = tempDir('anju-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mountPoint]);
});
afterAll(() => {
  execFileSync('umount', [mountPoint]);
  removeDir(mountPoint);
});

/** Writes `file` until the file system has at most `leaveBytes` free (0: until ENOSPC). */
function fill(file: string, leaveBytes: number, freeBytes: () => number): void {
  const fd = openSync(file, 'a');
  try {
    for (const size of [MB, 64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        if (leaveBytes > 0 && freeBytes() - size < leaveBytes) break;
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

interface StorageDetail {
  freeBytes: number;
  low: boolean;
  full: boolean;
  failing: string[];
  parts: Record<string, { failing: boolean; errors: number; lastError?: { message: string; code?: string } }>;
  alertsNotStored: number;
}

describe('disk full', () => {
  it('refuses readings without PUBACK, stays up, says so, and takes readings again once space returns', async () => {
    const filler = path.join(mountPoint, 'filler');
    cleanups.add(() => rmSync(filler, { force: true }));
    const dataDir = path.join(mountPoint, 'data');
    mkdirSync(dataDir);
    const { devices, token, server } = await serveFleet(cleanups, {
      devices: 3,
      dataDir,
      env: { ANJU_DISK_WARN_FREE_MB: '8', ANJU_LOG_LEVEL: 'warn' },
    });
    const storage = async () => (await health(server)).checks.storage!.detail as unknown as StorageDetail;

    // An API token acts as admin: its console socket is in the room every alert goes to.
    const staffConsole: Socket = connectSocket(`http://127.0.0.1:${server.httpPort}`, {
      path: '/socket.io',
      auth: { token },
      transports: ['websocket'],
    });
    cleanups.add(() => void staffConsole.close());
    const consoleAlerts: { ruleId: string; severity: string; summary: string; id: string }[] = [];
    staffConsole.on('alert:new', (p: { alert: (typeof consoleAlerts)[number] }) =>
      consoleAlerts.push(p.alert),
    );
    staffConsole.on('alert:update', (p: { alert: (typeof consoleAlerts)[number] }) =>
      consoleAlerts.push(p.alert),
    );
    await waitFor(() => staffConsole.connected, 10_000);

    const load = publishUntilStopped(() => server.mqttPort, devices, 5);
    cleanups.add(() => load.stop());
    await waitFor(() => load.total() >= 300, 30_000);
    expect((await health(server)).status).toBe('ok');

    // Almost full: below the 8 MB threshold, writes still work. A warning, not yet degraded.
    fill(filler, 5 * MB, () => freeOf(mountPoint));
    await waitFor(async () => (await health(server)).status === 'warning', 10_000, 100);
    await waitFor(
      () => consoleAlerts.some((a) => a.ruleId === 'system.storage' && a.severity === 'warning'),
      10_000,
    );
    expect(consoleAlerts.find((a) => a.ruleId === 'system.storage')!.summary).toMatch(/almost full/);

    // Full: the journal cannot commit, so nothing is acknowledged; the process stays up and says why.
    fill(filler, 0, () => freeOf(mountPoint));
    await waitFor(async () => (await storage()).failing.includes('journal'), 20_000, 100);
    const ackedWhenFull = load.total();
    await new Promise((r) => setTimeout(r, 3000));
    expect(alive(server)).toBe(true);
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/healthz`);
    expect(res.status).toBe(503);
    const degraded = (await res.json()) as { status: string; checks: { storage: { detail: StorageDetail } } };
    expect(degraded.status).toBe('degraded');
    expect(degraded.checks.storage.detail.freeBytes).toBeLessThan(MB);
    expect(degraded.checks.storage.detail.parts.journal!.lastError!.code).toMatch(/^SQLITE_(FULL|IOERR)/);
    // At most the commits already under way when the disk filled were acknowledged after it.
    expect(load.total() - ackedWhenFull).toBeLessThan(50);
    const metrics = await metricsText(server);
    expect(metricValue(metrics, 'anju_storage_write_failing', 'part="journal"')).toBe(1);
    expect(metricValue(metrics, 'anju_storage_write_errors_total', 'part="journal"')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'anju_data_dir_free_bytes')).toBeLessThan(MB);
    expect(metricValue(metrics, 'anju_data_dir_free_warn_bytes')).toBe(8 * MB);
    // The staff console heard it, although the alert could not be stored.
    await waitFor(
      () => consoleAlerts.some((a) => a.ruleId === 'system.storage' && a.severity === 'critical'),
      10_000,
    );
    expect(server.stdout.some((l) => l.includes('storage write failing'))).toBe(true);

    // Space returns: readings are taken again, with no restart.
    unlinkSync(filler);
    const freedAt = Date.now();
    const firstAck = await waitFor(() => load.firstAckAfter(freedAt), 15_000);
    const recoveryMs = firstAck - freedAt;
    process.stdout.write(`disk-full: first accepted reading ${recoveryMs} ms after space was freed\n`);
    expect(recoveryMs).toBeLessThan(5000);
    // Writing again; the disk may still be below the warning threshold (the journal grew meanwhile).
    await waitFor(async () => (await health(server)).status !== 'degraded', 20_000, 100);
    const healthyMs = Date.now() - freedAt;
    await waitFor(async () => (await storage()).alertsNotStored === 0, 10_000, 100);
    process.stdout.write(`disk-full: /healthz no longer degraded ${healthyMs} ms after space was freed\n`);

    await load.stop();
    await expectEveryAckedStoredOnce(server, token, load.acked);
    // The storage alert raised while the disk was full is stored now, under the id the console saw.
    const stored = (await (
      await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/alerts`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { alerts: { ruleId: string; severity: string; id: string }[] };
    const storageAlert = stored.alerts.find((a) => a.ruleId === 'system.storage');
    expect(storageAlert?.severity).toBe('critical');
    expect(consoleAlerts.map((a) => a.id)).toContain(storageAlert!.id);
    expect(alive(server)).toBe(true);
  }, 120_000);

  // The second crash: restarted on the still-full disk, /healthz said ok and the first device to
  // connect ended the process.
  it('starts on a full disk, says degraded, survives devices connecting, and recovers when space returns', async () => {
    const filler = path.join(mountPoint, 'filler');
    cleanups.add(() => rmSync(filler, { force: true }));
    const dataDir = path.join(mountPoint, 'data-restart');
    mkdirSync(dataDir);
    const env = { ANJU_DISK_WARN_FREE_MB: '8' };
    const fleet = await startUnderLoad(cleanups, { devices: 3, dataDir, env, pauseMs: 5 });
    const { token, load } = fleet;
    let server = fleet.server;
    await waitFor(() => load.total() >= 300, 30_000);
    fill(filler, 0, () => freeOf(mountPoint));
    await server.killHard();

    // The load and the cleanup follow the restarted server.
    server = fleet.server = await spawnAnju(dataDir, env, undefined, true);
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/healthz`);
    expect(res.status).toBe(503);
    const started = (await res.json()) as { status: string; checks: { storage: { detail: StorageDetail } } };
    expect(started.status).toBe('degraded');
    expect(started.checks.storage.detail.full).toBe(true);
    // The devices come back, connect and publish: refused, and the process stays up.
    const atStart = load.total();
    await waitFor(async () => (await storageOf(server)).parts.journal!.errors > 3, 15_000, 100);
    await new Promise((r) => setTimeout(r, 2000));
    expect(alive(server)).toBe(true);
    expect(load.total() - atStart).toBeLessThan(50);
    // A console opened now still sees the storage alert that cannot be stored.
    const admin: Socket = connectSocket(`http://127.0.0.1:${server.httpPort}`, {
      path: '/socket.io',
      auth: { token },
      transports: ['websocket'],
    });
    cleanups.add(() => void admin.close());
    await waitFor(() => admin.connected, 10_000);
    const sync = (await admin.emitWithAck('alerts:sync', { since: 0 })) as {
      alerts: { ruleId: string; severity: string; id: string }[];
    };
    const shown = sync.alerts.find((a) => a.ruleId === 'system.storage');
    expect(shown?.severity).toBe('critical');

    unlinkSync(filler);
    const freedAt = Date.now();
    const firstAck = await waitFor(() => load.firstAckAfter(freedAt), 15_000);
    process.stdout.write(
      `disk-full restart: first accepted reading ${firstAck - freedAt} ms after space was freed\n`,
    );
    expect(firstAck - freedAt).toBeLessThan(5000);
    // Writing again; the disk may still be below the warning threshold (the journal grew meanwhile).
    await waitFor(async () => (await health(server)).status !== 'degraded', 20_000, 100);
    await load.stop();
    await expectEveryAckedStoredOnce(server, token, load.acked);
    const stored = (await (
      await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/alerts/${shown!.id}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { alert: { ruleId: string; state: string } };
    expect(stored.alert).toMatchObject({ ruleId: 'system.storage', severity: 'critical' });
  }, 120_000);
});

async function storageOf(server: AnjuProcess): Promise<StorageDetail> {
  return (await health(server)).checks.storage!.detail as unknown as StorageDetail;
}

function freeOf(dir: string): number {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
}
