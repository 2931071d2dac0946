/**
 * bench:cluster, part "bulk": bulk-stream MB/s between two Nets with the cluster secret, as a daemon
 * runs them (the TLS-PSK side channel), against a raw `node:net` socket pair sending the same frames
 * in the same run (bench/support/raw-tcp.ts), and records/s through the stream; the libp2p stream
 * path (side channel off, pnet on and off) is measured once for reference.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { pino } from 'pino';
import { createNet, DEFAULT_WINDOW_BYTES, generateClusterSecret, type Net } from '../../src/net/index.ts';
import { rawTcpTransfer } from './raw-tcp.ts';

const BULK_MB = Number(process.env.BENCH_BULK_MB ?? 64);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const FRAME = 256 * 1024;
const RECORDS = 100_000;
const RECORD_VALUE = 100;
const logger = pino({ level: 'warn' });
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const cpuMsPerMB = (c: NodeJS.CpuUsage, bytes: number) => round((c.user + c.system) / 1000 / (bytes / 1024 / 1024), 2);

export async function netPair(
  secret: Uint8Array | undefined,
  bulkTls = true,
): Promise<{ a: Net; b: Net; close: () => Promise<void> }> {
  const dirs = [mkdtempSync(join(tmpdir(), 'shoal-bench-')), mkdtempSync(join(tmpdir(), 'shoal-bench-'))];
  const base = {
    zone: 'z',
    capacity: 1,
    storeKind: 'none',
    apiUrl: 'http://127.0.0.1:1',
    clusterSecret: secret,
    bulkTls,
  };
  const a = createNet({ logger }, { ...base, dataDir: dirs[0] });
  const b = createNet({ logger }, { ...base, dataDir: dirs[1] });
  await a.start();
  await b.start();
  await a.join(b.multiaddrs()[0]);
  return {
    a,
    b,
    close: async () => {
      await Promise.allSettled([a.stop(), b.stop()]);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

const SINK = '/shoal/bench-sink/1.0.0';
const RECORD_SINK = '/shoal/bench-records/1.0.0';

/** Sends `frames` over a new bulk stream; returns ms until the receiver's result came back, and the channel used. */
async function bulkSend(a: Net, b: Net, protocol: string, frames: Iterable<Uint8Array>, windowBytes?: number) {
  const t0 = performance.now();
  let sent = 0;
  try {
    const s = await a.openBulk(b.peerId, protocol, { windowBytes });
    for (const f of frames) {
      await s.write(f);
      sent++;
    }
    const result = new TextDecoder().decode(await s.end({ timeoutMs: 60_000 }));
    return { ms: performance.now() - t0, result, channel: s.channel };
  } catch (err) {
    const at = `${protocol}, window ${windowBytes ?? 'default'}, after ${sent} frames, ${Math.round(performance.now() - t0)} ms`;
    throw new Error(`${(err as Error).message} (${at})`, { cause: err });
  }
}

/** Records in the transfer wire format (`[key, { v, m }]`), batched into ~256 KiB msgpack frames. */
function recordBatches(): Array<Array<[string, { v: Uint8Array; m: Record<string, unknown> }]>> {
  const now = Date.now();
  const batches: Array<Array<[string, { v: Uint8Array; m: Record<string, unknown> }]>> = [[]];
  let bytes = 0;
  for (let i = 0; i < RECORDS; i++) {
    const v = randomBytes(RECORD_VALUE);
    const m = {
      version: `${now.toString(16)}.0000.bench${i % 7}`,
      type: 'blob',
      contentType: 'application/octet-stream',
      size: RECORD_VALUE,
      checksum: randomBytes(32).toString('hex'),
      createdAt: now,
      updatedAt: now,
    };
    batches[batches.length - 1].push([`rec:${i.toString().padStart(8, '0')}`, { v, m }]);
    bytes += RECORD_VALUE + 12 + 200;
    if (bytes >= FRAME) {
      batches.push([]);
      bytes = 0;
    }
  }
  return batches.filter((b) => b.length > 0);
}

function countRecords(frame: Uint8Array): number {
  const batch = decode(frame);
  if (!Array.isArray(batch)) throw new Error('bad record frame');
  return batch.length;
}

/** The same bytes on the libp2p stream path (side channel off), with or without pnet: the reference. */
async function bulkLibp2p(frames: Uint8Array[], secret: Uint8Array | undefined): Promise<number> {
  const { a, b, close } = await netPair(secret, false);
  try {
    await b.handleBulk(SINK, async (incoming) => {
      for await (const _ of incoming);
      return undefined;
    });
    await bulkSend(a, b, SINK, frames.slice(0, 16));
    const run = await bulkSend(a, b, SINK, frames);
    if (run.channel !== 'libp2p') throw new Error(`reference run used the ${run.channel} channel`);
    return run.ms;
  } finally {
    await close();
  }
}

/** Serves SINK on `b`: counts the bytes of every frame and answers the total. */
async function serveByteSink(b: Awaited<ReturnType<typeof netPair>>['b']): Promise<void> {
  await b.handleBulk(SINK, async (incoming) => {
    let n = 0;
    for await (const f of incoming) n += f.byteLength;
    return new TextEncoder().encode(String(n));
  });
}

/** A byte run must deliver every byte, over the TLS side channel (not the libp2p fallback). */
function assertSideChannel(run: { result: unknown; channel: string }, bytes: number): void {
  if (Number(run.result) !== bytes) throw new Error(`bulk receiver got ${run.result} of ${bytes} bytes`);
  if (run.channel !== 'tls') throw new Error(`bulk ran on the ${run.channel} channel, not the side channel`);
}

/**
 * The side channel's rate alone (for bench:dsm's mover): `mb` MB of 256 KiB frames between two Nets with
 * the cluster secret, `repeat` runs after a warm-up; the median MB/s and every sample.
 */
export async function sideChannelRate(mb: number, repeat = 3): Promise<{ MBps: number; samplesMBps: number[] }> {
  const chunk = randomBytes(FRAME);
  const frames = Array.from({ length: Math.max(1, Math.round((mb * 1024 * 1024) / FRAME)) }, () => chunk);
  const bytes = frames.length * FRAME;
  const mbps = (ms: number) => round(bytes / 1024 / 1024 / (ms / 1000));
  const { a, b, close } = await netPair(generateClusterSecret());
  try {
    await serveByteSink(b);
    await bulkSend(a, b, SINK, frames.slice(0, 16));
    const samples: number[] = [];
    for (let rep = 0; rep < repeat; rep++) {
      const run = await bulkSend(a, b, SINK, frames);
      assertSideChannel(run, bytes);
      samples.push(mbps(run.ms));
    }
    return { MBps: median(samples), samplesMBps: samples };
  } finally {
    await close();
  }
}

/** The bulk part of bench:cluster; see the header of bench/cluster.ts. */
export async function bulkBench() {
  const chunk = randomBytes(FRAME);
  const frames = Array.from({ length: (BULK_MB * 1024 * 1024) / FRAME }, () => chunk);
  const bytes = frames.length * FRAME;
  const mbps = (ms: number) => round(bytes / 1024 / 1024 / (ms / 1000));
  const { a, b, close } = await netPair(generateClusterSecret());
  try {
    await serveByteSink(b);
    await b.handleBulk(RECORD_SINK, async (incoming) => {
      let n = 0;
      for await (const f of incoming) n += countRecords(f);
      return new TextEncoder().encode(String(n));
    });
    await rawTcpTransfer(frames.slice(0, 16)); // warm-up
    await bulkSend(a, b, SINK, frames.slice(0, 16));
    // Interleaved repetitions, median reported: the machine is shared, so single runs are noisy.
    const ms = {
      raw: [] as number[],
      bulk: [] as number[],
      rawCpu: [] as number[],
      bulkCpu: [] as number[],
      wide: [] as number[],
      rawRec: [] as number[],
      rec: [] as number[],
      rawLate: [] as number[],
      bulkLate: [] as number[],
    };
    // Bytes first, records after: 100,000 records held in memory (and the garbage their runs leave)
    // make every GC slower, which taxes the stream (it allocates each frame it hands over, and V8
    // runs a full GC per ~64 MB of such buffers) far more than raw TCP (which only counts bytes).
    // Each phase interleaves raw and bulk runs; the bytes are measured once more after the records
    // (`withRecordsHeap`) to show that cost.
    for (let rep = 0; rep < REPEAT; rep++) {
      let cpu = process.cpuUsage();
      ms.raw.push((await rawTcpTransfer(frames)).ms);
      ms.rawCpu.push(cpuMsPerMB(process.cpuUsage(cpu), bytes));
      cpu = process.cpuUsage();
      const bulk = await bulkSend(a, b, SINK, frames);
      ms.bulkCpu.push(cpuMsPerMB(process.cpuUsage(cpu), bytes));
      assertSideChannel(bulk, bytes);
      ms.bulk.push(bulk.ms);
      ms.wide.push((await bulkSend(a, b, SINK, frames, 4 * 1024 * 1024)).ms);
    }
    const batches = recordBatches();
    for (let rep = 0; rep < REPEAT; rep++) {
      // many small records: msgpack encode on the sender, decode on the receiver, both timed
      let n = 0;
      const t0 = performance.now();
      await rawTcpTransfer(
        batches.map((batch) => encode(batch)),
        { onFrame: (f) => (n += countRecords(f)) },
      );
      if (n !== RECORDS) throw new Error(`raw receiver decoded ${n} of ${RECORDS} records`);
      ms.rawRec.push(performance.now() - t0);
      const rec = await bulkSend(
        a,
        b,
        RECORD_SINK,
        (function* () {
          for (const batch of batches) yield encode(batch);
        })(),
      );
      if (Number(rec.result) !== RECORDS) throw new Error(`bulk receiver decoded ${rec.result} of ${RECORDS} records`);
      ms.rec.push(rec.ms);
    }
    for (let rep = 0; rep < REPEAT; rep++) {
      ms.rawLate.push((await rawTcpTransfer(frames)).ms);
      ms.bulkLate.push((await bulkSend(a, b, SINK, frames)).ms);
    }
    const libp2pPnet = await bulkLibp2p(frames, generateClusterSecret());
    const libp2pPlain = await bulkLibp2p(frames, undefined);
    const perSec = (t: number) => Math.round(RECORDS / (t / 1000));
    return {
      bytes: {
        MB: BULK_MB,
        frameKiB: FRAME / 1024,
        repeat: REPEAT,
        channel: 'tls side channel (TLS 1.3 PSK, AES-128-GCM), cluster secret set',
        rawTcpMBps: mbps(median(ms.raw)),
        bulkMBps: mbps(median(ms.bulk)),
        windowKiB: DEFAULT_WINDOW_BYTES / 1024,
        bulkWindow4MiBMBps: mbps(median(ms.wide)),
        libp2pPnetMBps: mbps(libp2pPnet),
        libp2pNoPnetMBps: mbps(libp2pPlain),
        samplesMBps: { rawTcp: ms.raw.map(mbps), bulk: ms.bulk.map(mbps), bulkWindow4MiB: ms.wide.map(mbps) },
        // CPU time of this process (all threads, user + system) per MB moved: less sensitive to other load than MB/s
        cpuMsPerMB: { rawTcp: median(ms.rawCpu), bulk: median(ms.bulkCpu) },
        withRecordsHeap: {
          rawTcpMBps: mbps(median(ms.rawLate)),
          bulkMBps: mbps(median(ms.bulkLate)),
          samplesMBps: { rawTcp: ms.rawLate.map(mbps), bulk: ms.bulkLate.map(mbps) },
        },
      },
      records: {
        records: RECORDS,
        valueBytes: RECORD_VALUE,
        frames: batches.length,
        rawTcpRecordsPerSec: perSec(median(ms.rawRec)),
        bulkRecordsPerSec: perSec(median(ms.rec)),
        samples: { rawTcp: ms.rawRec.map(perSec), bulk: ms.rec.map(perSec) },
      },
    };
  } finally {
    await close();
  }
}
