// bench:http — the daemon's GET and PUT against a bare fastify route, in the same run, with autocannon.
// Targets (issue 3): GET >= 0.6x bare fastify; PUT (durability os) >= 0.4x.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort, kill9, startDaemonProcess, tempDir } from '../test/support/daemon-process.ts';
import { type LoadResult, load } from './support/autocannon.ts';

const ROOT = resolve(import.meta.dirname, '..');
const value = Buffer.alloc(100, 'v');

async function startBare(): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [resolve(import.meta.dirname, 'support/bare-fastify.ts'), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((res) => proc.stdout?.once('data', () => res()));
  return { url: `http://127.0.0.1:${port}`, proc };
}

async function daemonRuns(
  durability: 'os' | 'fsync',
  stats: 'on' | 'off' = 'on',
): Promise<{ get: LoadResult; put: LoadResult }> {
  const d = await startDaemonProcess(
    ['--durability', durability, '--log-level', 'error', '--access-stats', stats],
    tempDir(),
  );
  try {
    for (let i = 0; i < 1000; i++) await fetch(`${d.url}/v1/records/k${i}`, { method: 'PUT', body: value });
    const get = await load(`daemon GET (${durability}, stats ${stats})`, {
      url: d.url,
      requests: Array.from({ length: 50 }, (_, i) => ({ method: 'GET', path: `/v1/records/k${i * 20}` })),
    });
    let n = 0;
    const put = await load(`daemon PUT (${durability}, stats ${stats})`, {
      url: d.url,
      requests: [
        {
          method: 'PUT',
          setupRequest: (req) => ({
            ...req,
            path: `/v1/records/p${n++ % 10000}`,
            body: value,
            headers: { 'content-type': 'application/octet-stream' },
          }),
        },
      ],
    });
    return { get, put };
  } finally {
    await kill9(d);
  }
}

const bare = await startBare();
const bareGet = await load('bare fastify GET', { url: `${bare.url}/const` });
const barePut = await load('bare fastify PUT', {
  url: `${bare.url}/const`,
  method: 'PUT',
  body: value,
  headers: { 'content-type': 'application/octet-stream' },
});
bare.proc.kill('SIGKILL');
const os = await daemonRuns('os');
const fsync = await daemonRuns('fsync');
const noStats = await daemonRuns('os', 'off');

const results = {
  date: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  runs: [bareGet, barePut, os.get, os.put, fsync.get, fsync.put, noStats.get, noStats.put],
  ratios: {
    getVsBare: +(os.get.reqPerSec / bareGet.reqPerSec).toFixed(3),
    putOsVsBare: +(os.put.reqPerSec / barePut.reqPerSec).toFixed(3),
    putFsyncVsBare: +(fsync.put.reqPerSec / barePut.reqPerSec).toFixed(3),
    getStatsOnVsOff: +(os.get.reqPerSec / noStats.get.reqPerSec).toFixed(3),
  },
  targets: { getVsBare: 0.6, putOsVsBare: 0.4, getStatsOnVsOff: 0.9 },
};
for (const r of results.runs)
  console.log(
    `${r.name.padEnd(24)} ${String(r.reqPerSec).padStart(7)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  errors ${r.errors} non2xx ${r.non2xx}`,
  );
console.log(
  `GET ratio ${results.ratios.getVsBare} (target >= 0.6); PUT os ratio ${results.ratios.putOsVsBare} (target >= 0.4); PUT fsync ratio ${results.ratios.putFsyncVsBare}; GET stats on/off ${results.ratios.getStatsOnVsOff} (target >= 0.9)`,
);
mkdirSync(resolve(ROOT, 'bench/results'), { recursive: true });
writeFileSync(resolve(ROOT, 'bench/results/http.json'), `${JSON.stringify(results, null, 2)}\n`);
