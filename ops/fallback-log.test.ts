import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('logs an error reported without a handler as one pino JSON line on stderr, with its stack', () => {
  const script = `
    import { logErrors } from './ops/fallback-log.ts';
    logErrors('alerts', 'alert lifecycle error')(new Error('disk gone'));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  expect(child.status).toBe(0);
  const lines = child.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0]!) as Record<string, unknown> & { err: Record<string, string> };
  expect(line).toMatchObject({ level: 50, part: 'alerts', msg: 'alert lifecycle error' });
  expect(line.err).toMatchObject({ type: 'Error', message: 'disk gone' });
  expect(line.err.stack).toContain('disk gone');
});
