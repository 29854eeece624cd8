// One Anju process's AlertService for the cross-process tests (processes.test.ts): opens the alerts on
// the PostgreSQL URL it is given, prints "ready", waits for "go" on stdin so that the processes start
// together, does one job and prints its outcome as one JSON line.
//   raise:     raises each resident's gas alarm once
//   act:       acknowledges or resolves one alert
//   escalate:  runs escalation at the given times, e-mailing through the given SMTP port
import { createInterface } from 'node:readline';
import { PostgresDatabase } from '../../database/postgres.ts';
import { EmailChannel } from '../channels/email.ts';
import { AlertError } from './schemas.ts';
import { AlertService } from './service.ts';
import { EMAIL_DAUGHTER_DIRECTORY, raise, T0, TWO_EMAILS } from './test-support.ts';

export type Job =
  | { job: 'raise'; residents: string[] }
  | { job: 'act'; alertId: string; action: 'acknowledge' | 'resolve' }
  | { job: 'escalate'; smtpPort: number; times: number[] };

async function main(url: string, job: Job): Promise<unknown> {
  const db = new PostgresDatabase(url, { applicationName: 'anju-test-process' });
  const channels =
    job.job === 'escalate'
      ? [new EmailChannel({ smtp: { host: '127.0.0.1', port: job.smtpPort, secure: false }, from: 'a@b.c' })]
      : [];
  const service = await AlertService.open({
    db,
    clock: { now: () => T0 },
    directory: EMAIL_DAUGHTER_DIRECTORY,
    policies: TWO_EMAILS,
    channels,
  });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) =>
    createInterface({ input: process.stdin }).once('line', () => resolve()),
  );
  try {
    switch (job.job) {
      case 'raise': {
        const changes = await Promise.all(
          job.residents.map((residentId) => service.apply(raise({ residentId }))),
        );
        return changes.map((c) => ({ type: c!.type, alertId: c!.alert.id }));
      }
      case 'act':
        try {
          const alert =
            job.action === 'acknowledge'
              ? await service.acknowledge(job.alertId, `us_${process.pid}`)
              : await service.resolve(job.alertId, `us_${process.pid}`, 'other');
          return { ok: true, state: alert.state };
        } catch (err) {
          if (err instanceof AlertError) return { ok: false, code: err.code, message: err.message };
          throw err;
        }
      case 'escalate':
        for (const t of job.times) await service.advanceTo(t);
        return { ok: true };
    }
  } finally {
    await service.close();
    await db.close();
  }
}

const [url, job] = process.argv.slice(2);
if (url && job)
  main(url, JSON.parse(job) as Job).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
      process.exit(1);
    },
  );
