import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PARENT_POLL_MS, watchParent } from '../../node/parent-watch.ts';
import { freePort, tempDir } from '../support/daemon-process.ts';
import { descendants, procStat } from '../support/procs.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) if (procStat(pid)) process.kill(pid, 'SIGKILL');
});

describe('npm start', () => {
  it.skipIf(process.platform !== 'linux')(
    'stops the daemon when the npm process is stopped (SIGTERM), leaving no process behind',
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const npm = spawn(
        'npm',
        ['start', '--', '--data-dir', tempDir(), '--http-port', String(port), '--log-level', 'warn'],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      npm.stdout.on('data', (b) => {
        out += b;
      });
      npm.stderr.on('data', (b) => {
        out += b;
      });
      const exited = new Promise((r) => npm.once('exit', r));
      const deadline = Date.now() + 30_000;
      let ready = false;
      while (!ready && Date.now() < deadline && npm.exitCode === null) {
        ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(500) }).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready, out).toBe(true);
      const tree = descendants(npm.pid!);
      leftovers.push(...tree);
      expect(tree.length).toBeGreaterThan(0);
      npm.kill('SIGTERM');
      await exited;
      const gone = Date.now() + 5_000;
      while (tree.some((pid) => procStat(pid)) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      expect(tree.filter((pid) => procStat(pid))).toEqual([]);
      expect(
        await fetch(`${url}/healthz`).then(
          () => 'answers',
          () => 'gone',
        ),
      ).toBe('gone');
    },
    45_000,
  );
});

describe('watchParent', () => {
  it('reports a re-parented process started by an npm script once, and ignores one started otherwise', () => {
    vi.useFakeTimers();
    try {
      let ppid = 100;
      const orphaned: number[] = [];
      watchParent(
        (p) => orphaned.push(p),
        { npm_lifecycle_event: 'npx' },
        () => ppid,
      );
      const ignored: number[] = [];
      watchParent(
        (p) => ignored.push(p),
        {},
        () => ppid,
      );
      vi.advanceTimersByTime(3 * PARENT_POLL_MS);
      expect(orphaned).toEqual([]);
      ppid = 1; // the parent died
      vi.advanceTimersByTime(3 * PARENT_POLL_MS);
      expect(orphaned).toEqual([100]);
      expect(ignored).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
