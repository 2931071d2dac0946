import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DaemonProcess,
  freePort,
  kill9,
  launch,
  runCli,
  stopGracefully,
  tempDir,
} from '../support/daemon-process.ts';

const running: DaemonProcess[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await kill9(d);
});

// vitest.config.ts gives every test's daemon any free libp2p port through SHOAL_LISTEN; these test the default.
const saved = process.env.SHOAL_LISTEN;
beforeAll(() => {
  delete process.env.SHOAL_LISTEN;
});
afterAll(() => {
  if (saved !== undefined) process.env.SHOAL_LISTEN = saved;
});

/** `/admin/status` once the daemon is ready (healthy comes before libp2p is up). */
async function statusOf(d: DaemonProcess): Promise<{ peerId: string; multiaddrs: string[] }> {
  const deadline = Date.now() + 20_000;
  while (!(await fetch(`${d.url}/readyz`)).ok && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return (await fetch(`${d.url}/admin/status`)).json();
}

describe('the libp2p address by default and with --announce', () => {
  it('keeps the libp2p port it got on its first start, so its multiaddr survives a restart', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const url = `http://127.0.0.1:${port}`;
    const args = ['start', '--data-dir', dataDir, '--http-port', String(port), '--log-level', 'warn'];
    const d = await launch({ url, dataDir, args });
    running.push(d);
    const first = await statusOf(d);
    expect(first.multiaddrs).toHaveLength(1);
    expect(first.multiaddrs[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/[1-9]\\d*/p2p/${first.peerId}$`));
    expect(await stopGracefully(d)).toBe(0);
    const again = await launch({ url, dataDir, args });
    running.push(again);
    expect((await statusOf(again)).multiaddrs).toEqual(first.multiaddrs);
    expect(await stopGracefully(again)).toBe(0);
    // Another process took that port meanwhile: the daemon starts on another one and says so.
    const taken = Number(/\/tcp\/(\d+)\//.exec(first.multiaddrs[0])![1]);
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(taken, '127.0.0.1', r));
    try {
      const moved = await launch({ url, dataDir, args });
      running.push(moved);
      const now = await statusOf(moved);
      expect(now.peerId).toBe(first.peerId);
      expect(now.multiaddrs).not.toEqual(first.multiaddrs);
      expect(moved.output()).toContain('the port of the previous run is taken');
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('tells the cluster the --announce addresses instead of the listen ones', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const announce = '/dns4/db1.example.net/tcp/8070';
    const args = ['start', '--data-dir', dataDir, '--http-port', String(port), '--announce', announce];
    const d = await launch({ url: `http://127.0.0.1:${port}`, dataDir, args: [...args, '--log-level', 'warn'] });
    running.push(d);
    const s = await statusOf(d);
    expect(s.multiaddrs).toEqual([`${announce}/p2p/${s.peerId}`]);
    const peers = (await (await fetch(`http://127.0.0.1:${port}/admin/peers`)).json()) as {
      members: Array<{ multiaddrs: string[] }>;
    };
    expect(peers.members[0].multiaddrs).toEqual(s.multiaddrs);
  });

  it('refuses a --listen port in use with ADDRESS_IN_USE naming --listen, before it creates the data directory', async () => {
    const [port, busy] = [await freePort(), await freePort()];
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(busy, '127.0.0.1', r));
    try {
      const dataDir = join(tempDir(), 'not-yet');
      const listen = `/ip4/127.0.0.1/tcp/${busy}`;
      const res = await runCli(['start', '--data-dir', dataDir, '--http-port', String(port), '--listen', listen]);
      expect(res.code).toBe(1);
      expect(res.out).toContain(
        `shoal: ADDRESS_IN_USE: libp2p address 127.0.0.1:${busy} is already in use (another shoal daemon?); choose another with --listen`,
      );
      expect(res.out).not.toMatch(/unexpected error|\n\s+at /);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});
