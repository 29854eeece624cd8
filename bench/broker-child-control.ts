// Starts and stops bench/broker-child.ts, and asks it for its CPU time.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface BrokerChild {
  proc: ChildProcess;
  port: number;
  cpu(): Promise<number>;
}

export async function startBrokerChild(argv: string[]): Promise<BrokerChild> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'broker-child.ts'), ...argv],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: proc.stdout! });
  const queue: ((line: string) => void)[] = [];
  lines.on('line', (line) => queue.shift()?.(line));
  const nextLine = () => new Promise<string>((resolve) => queue.push(resolve));
  const { port } = JSON.parse(await nextLine()) as { port: number };
  return {
    proc,
    port,
    cpu: async () => {
      const reply = nextLine();
      proc.stdin!.write('cpu\n');
      return (JSON.parse(await reply) as { cpuMicros: number }).cpuMicros;
    },
  };
}

export async function stopBrokerChild(child: BrokerChild): Promise<void> {
  const exited = new Promise((r) => child.proc.once('exit', r));
  child.proc.kill('SIGTERM');
  await exited;
}
