// Starts a real NATS JetStream cluster (Debian package `nats-server`) for tests: three servers on free
// loopback ports, each with its own store directory, routed to each other. A server can be killed (as a
// machine dies) and started again on the same directory and ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { freePort } from './influxd.ts';

export interface NatsCluster {
  /** Client URLs of every server, e.g. nats://127.0.0.1:4222. */
  urls: string[];
  /** SIGKILL one server (0-based). */
  kill(index: number): Promise<void>;
  /** Starts a killed server again with its store. */
  start(index: number): Promise<void>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

interface Node {
  name: string;
  port: number;
  clusterPort: number;
  config: string;
  process?: ChildProcess;
  stderr: string;
}

function configText(node: Node, dir: string, routes: string[]): string {
  // A lone server runs JetStream without a cluster block (a cluster of one is refused).
  const cluster = routes.length
    ? `cluster {
  name: anju-test
  listen: 127.0.0.1:${node.clusterPort}
  routes: [${routes.join(', ')}]
}
`
    : '';
  return `server_name: ${node.name}
listen: 127.0.0.1:${node.port}
jetstream {
  store_dir: "${path.join(dir, node.name)}"
  max_memory_store: 64MB
  max_file_store: 1GB
}
${cluster}`;
}

/** Resolves once a client can reach JetStream through this server (the cluster has a meta leader). */
async function waitForJetStream(url: string, node: Node): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (node.process?.exitCode !== null && node.process?.exitCode !== undefined)
      throw new Error(`nats-server ${node.name} exited: ${node.stderr}`);
    try {
      const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
      try {
        await (await nc.jetstreamManager({ timeout: 1000 })).getAccountInfo();
        return;
      } finally {
        await nc.close();
      }
    } catch {
      if (Date.now() > deadline) throw new Error(`JetStream did not come up on ${node.name}: ${node.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-nats-'));
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++)
    nodes.push({
      name: `n${i + 1}`,
      port: await freePort(),
      clusterPort: await freePort(),
      config: '',
      stderr: '',
    });
  for (const node of nodes) {
    const routes = nodes.filter((n) => n !== node).map((n) => `nats-route://127.0.0.1:${n.clusterPort}`);
    node.config = path.join(dir, `${node.name}.conf`);
    mkdirSync(path.join(dir, node.name), { recursive: true });
    writeFileSync(node.config, configText(node, dir, routes));
  }
  const killAll = () => nodes.forEach((n) => n.process?.kill('SIGKILL'));
  process.once('exit', killAll);

  const launch = (node: Node) => {
    node.stderr = '';
    node.process = spawn('nats-server', ['-c', node.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    node.process.stderr!.on('data', (c: Buffer) => (node.stderr = (node.stderr + c.toString()).slice(-4096)));
  };
  const end = async (node: Node, signal: NodeJS.Signals) => {
    const child = node.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };

  nodes.forEach(launch);
  const urls = nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  try {
    await Promise.all(nodes.map((n, i) => waitForJetStream(urls[i]!, n)));
  } catch (err) {
    await Promise.all(nodes.map((n) => end(n, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    urls,
    kill: (i) => end(nodes[i]!, 'SIGKILL'),
    async start(i) {
      launch(nodes[i]!);
      await waitForJetStream(urls[i]!, nodes[i]!);
    },
    async stop() {
      await Promise.all(nodes.map((n) => end(n, 'SIGTERM')));
      process.removeListener('exit', killAll);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
