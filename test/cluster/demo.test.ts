import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { sharedTrace } from '../../node/replay/shared-traces.ts';
import { tempDir } from '../support/daemon-process.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Pids of the live processes whose command line mentions `text` (the demo's daemons name their data dirs). */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

it.skipIf(!sharedTrace('worldcup98_day6_even.csv.gz'))(
  'npm run demo starts three daemons, prints their dashboards, replays, and stops every daemon on Ctrl-C',
  { timeout: 60_000 },
  async () => {
    const dataRoot = join(tempDir('shoal-demo-'), 'demo');
    const base = 30_000 + Math.floor(Math.random() * 20_000);
    // Slow enough that the replay is still running when SIGINT comes.
    const args = ['--base-port', String(base), '--data-root', dataRoot, '--limit', '4000', '--speedup', '60'];
    const npm = spawn('npm', ['run', '--silent', 'demo', '--', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    npm.stdout.on('data', (b) => (stdout += b));
    npm.stderr.on('data', (b) => (stderr += b));
    const exited = new Promise<number | null>((r) => npm.once('exit', (code) => r(code)));
    try {
      const until = async (what: () => boolean, ms: number, label: string) => {
        const deadline = Date.now() + ms;
        while (!what()) {
          if (Date.now() > deadline || npm.exitCode !== null)
            throw new Error(`no ${label} within ${ms} ms:\n${stdout}\n${stderr}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await until(() => /DSM policy hybrid on every daemon/.test(stderr), 40_000, 'replay start');
      const dashboards = [...stdout.matchAll(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/dashboard)/gm)].map((m) => m[1]);
      expect(dashboards).toEqual([0, 1, 2].map((i) => `http://127.0.0.1:${base + i}/dashboard`));
      const page = await fetch(dashboards[0]);
      expect(page.status).toBe(200);
      expect(processesWith(dataRoot).length).toBeGreaterThanOrEqual(3);
      await new Promise((r) => setTimeout(r, 2000));
      npm.kill('SIGINT');
      const code = await exited;
      expect(code, `${stdout}\n${stderr}`).toBe(130);
      // The summary of what was replayed until then, then every daemon stopped.
      expect(stdout).toMatch(/replayed \d+ of 4000 rows .* stopped by interrupted/);
      expect(stdout).toMatch(/remote-served share/);
      expect(stderr).toMatch(/all daemons stopped/);
      expect(processesWith(dataRoot)).toEqual([]);
    } finally {
      if (npm.exitCode === null) {
        npm.kill('SIGKILL');
        await exited;
      }
      for (const pid of processesWith(dataRoot)) process.kill(pid, 'SIGKILL');
    }
  },
);
