/**
 * Bulk stream throughput on loopback (a measurement script, not a test):
 *   node test/net/bulk-throughput.ts [MB]
 * Compares a raw TCP socket, then shoal bulk streams with pnet on and off and several windows.
 * Prints one JSON object per line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createNet, generateClusterSecret, type Net } from '../../src/net/index.ts';

const MB = Number(process.argv[2] ?? 100);
const TOTAL = MB * 1024 * 1024;
const FRAME = 64 * 1024;
const chunk = randomBytes(FRAME);
const logger = pino({ level: 'warn' });

async function rawTcp(): Promise<number> {
  let received = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const server = createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      received += d.byteLength;
      if (received >= TOTAL) done();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const t0 = performance.now();
  for (let sent = 0; sent < TOTAL; sent += FRAME) {
    if (!client.write(chunk)) await new Promise((r) => client.once('drain', r));
  }
  await finished;
  const ms = performance.now() - t0;
  client.destroy();
  server.close();
  return ms;
}

async function pair(secret: Uint8Array | undefined): Promise<{ a: Net; b: Net; dirs: string[] }> {
  const dirs = [await mkdtemp(join(tmpdir(), 'shoal-bench-')), await mkdtemp(join(tmpdir(), 'shoal-bench-'))];
  const base = { zone: 'z', capacity: 1, storeKind: 'none', apiUrl: 'http://127.0.0.1:1', clusterSecret: secret };
  const a = createNet({ logger }, { ...base, dataDir: dirs[0] });
  const b = createNet({ logger }, { ...base, dataDir: dirs[1] });
  await a.start();
  await b.start();
  await a.join(b.multiaddrs()[0]);
  await b.handleBulk('/shoal/bench/1.0.0', async (frames) => {
    let n = 0;
    for await (const f of frames) n += f.byteLength;
    return new TextEncoder().encode(String(n));
  });
  return { a, b, dirs };
}

async function bulk(a: Net, b: Net, windowBytes: number): Promise<number> {
  const t0 = performance.now();
  const s = await a.openBulk(b.peerId, '/shoal/bench/1.0.0', { windowBytes });
  for (let sent = 0; sent < TOTAL; sent += FRAME) await s.write(chunk);
  const n = Number(new TextDecoder().decode(await s.end()));
  if (n !== TOTAL) throw new Error(`received ${n} of ${TOTAL}`);
  return performance.now() - t0;
}

const mbps = (ms: number): number => Math.round((MB / (ms / 1000)) * 10) / 10;
const tcpMs = await rawTcp();
console.log(JSON.stringify({ case: 'raw-tcp', MB, MBps: mbps(tcpMs) }));
for (const pnet of [true, false]) {
  const { a, b, dirs } = await pair(pnet ? generateClusterSecret() : undefined);
  await bulk(a, b, 512 * 1024); // warm-up
  for (const windowBytes of [64 * 1024, 256 * 1024, 512 * 1024, 1024 * 1024, 4 * 1024 * 1024]) {
    const ms = await bulk(a, b, windowBytes);
    console.log(
      JSON.stringify({
        case: 'bulk',
        pnet,
        windowKiB: windowBytes / 1024,
        MB,
        MBps: mbps(ms),
        ofRawTcp: Math.round((tcpMs / ms) * 100) / 100,
      }),
    );
  }
  await a.stop();
  await b.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}
process.on('exit', (code) => {
  if (code !== 0) console.error(JSON.stringify({ exit: code }));
});
