import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type BulkHandler, createNet, type Member, type Net, type NetOptions } from '../../src/net/index.ts';

export const FAST_TIMINGS = {
  pingIntervalMs: 100,
  pingTimeoutMs: 300,
  suspectAfterMs: 400,
  downAfterMs: 1000,
  maxRedialMs: 400,
  gossipIntervalMs: 300,
};

const logger = pino({ level: process.env.SHOAL_TEST_LOG ?? 'silent' });
const dirs: string[] = [];
const nets: Net[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-net-'));
  dirs.push(dir);
  return dir;
}

export async function startNet(options: Partial<NetOptions> & { zone?: string } = {}): Promise<Net> {
  const net = createNet(
    { logger },
    {
      dataDir: options.dataDir ?? (await tempDir()),
      zone: 'z1',
      capacity: 100,
      storeKind: 'memory',
      apiUrl: 'http://127.0.0.1:1',
      timings: FAST_TIMINGS,
      ...options,
    },
  );
  nets.push(net);
  await net.start();
  return net;
}

/** Starts `n` nets that join the first one; resolves once every node sees all n members up. */
export async function startCluster(
  n: number,
  options: Partial<NetOptions> = {},
  dataDirs: string[] = [],
): Promise<Net[]> {
  const node = (i: number): Partial<NetOptions> => ({
    ...options,
    zone: `z${i}`,
    apiUrl: `http://127.0.0.1:${7000 + i}`,
    ...(dataDirs[i] === undefined ? {} : { dataDir: dataDirs[i] }),
  });
  const first = await startNet(node(0));
  const rest: Net[] = [];
  for (let i = 1; i < n; i++) {
    rest.push(await startNet({ ...node(i), join: first.multiaddrs() }));
  }
  const all = [first, ...rest];
  await waitFor(() => all.every((net) => upCount(net.members()) === n));
  return all;
}

export function upCount(members: Member[]): number {
  return members.filter((m) => m.status === 'up').length;
}

/** Polls `cond` every 25 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function cleanup(): Promise<void> {
  await Promise.allSettled(nets.splice(0).map((n) => n.stop()));
  await Promise.allSettled(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/**
 * A bulk handler that consumes every frame and answers JSON `{ bytes, count, sha }` (SHA-256 of the
 * frames in order); with `pauseEvery`, it sleeps 1 ms after every that many frames (a slow consumer).
 */
export function digestSink(options: { pauseEvery?: number } = {}): BulkHandler {
  return async (frames) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let count = 0;
    for await (const f of frames) {
      hash.update(f);
      bytes += f.byteLength;
      count++;
      if (options.pauseEvery !== undefined && count % options.pauseEvery === 0)
        await new Promise((r) => setTimeout(r, 1));
    }
    return new TextEncoder().encode(JSON.stringify({ bytes, count, sha: hash.digest('hex') }));
  };
}
