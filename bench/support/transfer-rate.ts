/**
 * bench:dsm mover's second reference: the bulk transfer protocol (`sendRecords` → `serveTransfers`, the
 * protocol a wave's copy step ships records with) moving records from one store to another, between two
 * Nets with the cluster secret (the TLS-PSK side channel) in this process. Unlike the raw side channel's
 * rate, it includes what every copy must do: read the values from the source store, verify each checksum,
 * merge through the CRDT rules and write to the destination store (LevelDB, `--durability os`, the
 * daemon's engine options). Both ends share this process's event loop. Also the store's own write rate
 * for the same records (no network): a ceiling no copy can pass, whatever carries the bytes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createLevelStore } from '../../plugins/store-level/index.ts';
import { createHlc } from '../../src/crdt/hlc.ts';
import { generateClusterSecret } from '../../src/net/index.ts';
import { buildRecord } from '../../src/replication/build.ts';
import { LocalEngine } from '../../src/replication/local-engine.ts';
import { sendRecords, serveTransfers } from '../../src/replication/transfer.ts';
import type { StoredRecord } from '../../src/store/index.ts';
import { netPair } from './bulk-bench.ts';

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/** An engine over a fresh LevelDB store, as a daemon builds it (metadata cache, no value cache for moved records). */
async function engineAt(dir: string, node: string) {
  const store = createLevelStore({ location: join(dir, node), durability: 'os' });
  await store.open();
  const engine = new LocalEngine(
    { store, clock: createHlc({ node }) },
    { readCacheBytes: 0, metaCacheEntries: 50_000 },
  );
  return { store, engine };
}

const recordsOfSize = (count: number, bytes: number, prefix: string) => {
  const clock = createHlc({ node: 'bench' });
  const value = randomBytes(bytes);
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}/${i}`,
    record: buildRecord(
      undefined,
      { kind: 'blob', value, contentType: 'application/octet-stream' },
      clock.now(),
      Date.now(),
    ),
  }));
};

/** Merges `records` into `engine` 64 at a time, as a transfer's receiver would without the network. */
async function applyAll(engine: LocalEngine, records: ReadonlyArray<{ key: string; record: StoredRecord }>) {
  for (let i = 0; i < records.length; i += 64) {
    await Promise.all(records.slice(i, i + 64).map((r) => engine.applyRecord(r.key, r.record, { bulk: true })));
  }
}

/**
 * MiB/s of `count` records of `bytes` each moved store to store by the transfer protocol, median of `repeat`
 * samples (each sample moves records the destination does not hold yet).
 */
export async function transferProtocolRate(
  count: number,
  bytes: number,
  repeat = 3,
): Promise<{ MBps: number; samplesMBps: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-transfer-bench-'));
  const { a, b, close } = await netPair(generateClusterSecret());
  const src = await engineAt(dir, 'a');
  const dst = await engineAt(dir, 'b');
  try {
    await serveTransfers(b, dst.engine, pino({ level: 'warn' }));
    const samples: number[] = [];
    for (let s = 0; s < repeat; s++) {
      const records = recordsOfSize(count, bytes, `t${s}`);
      const keys = records.map((r) => r.key);
      await applyAll(src.engine, records);
      const t0 = performance.now();
      const res = await sendRecords(a, b.peerId, src.engine.recordsOf(keys), AbortSignal.timeout(120_000));
      const ms = performance.now() - t0;
      if (res.applied !== count)
        throw new Error(`transfer applied ${res.applied} of ${count} (${res.rejected} rejected)`);
      samples.push(round((count * bytes) / 1024 / 1024 / (ms / 1000)));
    }
    return { MBps: median(samples), samplesMBps: samples };
  } finally {
    await close();
    await Promise.allSettled([src.store.close(), dst.store.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** MiB/s of `count` records of `bytes` each merged into a fresh store (no network), median of `repeat` samples. */
export async function storeWriteRate(
  count: number,
  bytes: number,
  repeat = 3,
): Promise<{ MBps: number; samplesMBps: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-store-bench-'));
  const samples: number[] = [];
  try {
    for (let s = 0; s < repeat; s++) {
      const { store, engine } = await engineAt(dir, `s${s}`);
      const records = recordsOfSize(count, bytes, 'w');
      const t0 = performance.now();
      await applyAll(engine, records);
      samples.push(round((count * bytes) / 1024 / 1024 / ((performance.now() - t0) / 1000)));
      await store.close();
    }
    return { MBps: median(samples), samplesMBps: samples };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
