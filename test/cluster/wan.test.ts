import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '../../cluster-scripts/local-cluster.ts');

it('npm run cluster --wan delays traffic between zones by the matrix, and not a local read', {
  timeout: 90_000,
}, async () => {
  const root = mkdtempSync(join(tmpdir(), 'shoal-wan-'));
  const matrix = join(root, 'wan.json');
  writeFileSync(matrix, JSON.stringify({ matrix: { a: { a: 0, b: 150 }, b: { a: 150, b: 0 } } }));
  const base = 20_000 + Math.floor(Math.random() * 20_000);
  const args = ['--durability', 'os', '--json', '--stop-after', '60', '--wan', matrix];
  const run = spawn(
    process.execPath,
    [SCRIPT, '2', '--zones', 'a,b', '--base-port', String(base), '--data-root', join(root, 'c'), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    let out = '';
    run.stdout.on('data', (b) => (out += b));
    const line = await new Promise<string>((res, rej) => {
      const t = setInterval(() => {
        const l = out.split('\n').find((x) => x.startsWith('{'));
        if (l) {
          clearInterval(t);
          res(l);
        }
      }, 100);
      run.once('exit', (code) => rej(new Error(`local-cluster exited ${code}: ${out}`)));
    });
    const { daemons } = JSON.parse(line) as { daemons: Array<{ url: string }> };
    const timed = async (url: string, init?: RequestInit) => {
      const t0 = performance.now();
      const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
      await r.arrayBuffer();
      return { status: r.status, ms: performance.now() - t0 };
    };
    const rec = `${daemons[0].url}/v1/records/wan`;
    const put = await timed(`${rec}?consistency=all`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(201);
    // The write waits for the other zone's replica: at least one emulated round trip (2 × 150 ms).
    expect(put.ms).toBeGreaterThanOrEqual(290);
    const local = await timed(`${rec}?consistency=one`);
    expect(local.status).toBe(200);
    expect(local.ms).toBeLessThan(put.ms);
  } finally {
    run.kill('SIGTERM');
    await new Promise((r) => run.once('exit', r));
  }
});
