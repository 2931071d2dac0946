// bench:cluster, part 2 — time for a daemon to receive 1,000 small records it is missing, measured
// in-process (two full daemons' worth of store + libp2p + replication, with the cluster secret), from
// the moment B sees A up until B's own store holds all 1,000; no HTTP polling in the measurement.
// Target (issue 4): < 500 ms. Reference: the same records copied store-to-store in this process.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { createLevelStore } from '../plugins/store-level/index.ts';
import { createHlc } from '../src/crdt/hlc.ts';
import { createNet, generateClusterSecret } from '../src/net/index.ts';
import { createReplication, LocalEngine } from '../src/replication/index.ts';

const N = Number(process.env.SYNC_RECORDS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const logger = pino({ level: 'silent' });
const secret = generateClusterSecret();

async function node(name: string, seeds: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), `shoal-sync-${name}-`));
  const store = createLevelStore({ location: join(dir, 'level'), durability: 'os' });
  await store.open();
  const local = new LocalEngine({ store, clock: createHlc({ node: name }) });
  const net = createNet(
    { logger },
    {
      dataDir: dir,
      join: seeds,
      clusterSecret: secret,
      zone: name,
      capacity: 1,
      storeKind: 'level',
      apiUrl: 'http://x',
    },
  );
  const replication = createReplication({ net, local, store, logger }, { maintenanceIntervalMs: 3_600_000 });
  await net.start();
  await replication.start();
  return { net, local, store, replication };
}

async function count(local: LocalEngine): Promise<number> {
  let n = 0;
  for await (const _ of local.scanRecords({ keysOnly: true })) n++;
  return n;
}

const samples: number[] = [];
const copySamples: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const a = await node('a');
  for (let i = 0; i < N; i++) {
    await a.local.put(`sync/${round}/${i}`, {
      kind: 'blob',
      value: Buffer.from(`value-${i}`.padEnd(100, '.')),
      contentType: 'text/plain',
    });
  }
  // Reference: the same records read from A's store and written into a fresh store in this process.
  const ref = createLevelStore({ location: mkdtempSync(join(tmpdir(), 'shoal-sync-ref-')), durability: 'os' });
  await ref.open();
  const t0 = performance.now();
  const refEngine = new LocalEngine({ store: ref, clock: createHlc({ node: 'r' }) });
  for await (const { key, record } of a.local.scanRecords()) await refEngine.applyRecord(key, record);
  copySamples.push(performance.now() - t0);
  await ref.close();

  const b = await node('b', a.net.multiaddrs());
  const seen = new Promise<number>((res) => {
    const check = () => (b.net.member(a.net.peerId)?.status === 'up' ? res(performance.now()) : setTimeout(check, 1));
    check();
  });
  const start = await seen;
  const deadline = start + 30_000;
  while ((await count(b.local)) < N && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - start;
  samples.push(ms);
  console.error(
    `round ${round + 1}/${ROUNDS}: ${N} records in ${ms.toFixed(0)} ms (store-to-store copy ${copySamples[round].toFixed(0)} ms)`,
  );
  for (const n of [b, a]) {
    await n.replication.stop();
    await n.net.stop();
    await n.store.close();
  }
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const result = {
  date: new Date().toISOString(),
  loadavg: loadavg()[0],
  records: N,
  method:
    'in-process: B joins A (pnet), timer starts when B sees A up, stops when B’s store holds every record (5 ms polls of the local store)',
  syncMs: +med(samples).toFixed(1),
  samplesMs: samples.map((x) => +x.toFixed(1)),
  referenceCopyMs: +med(copySamples).toFixed(1),
  targetMs: 500,
};
console.log(
  `sync ${N} records: median ${result.syncMs} ms (target < 500); store-to-store copy ${result.referenceCopyMs} ms`,
);
mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(resolve(import.meta.dirname, 'results/sync.json'), `${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
