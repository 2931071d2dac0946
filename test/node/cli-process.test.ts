import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../node/node-flags.ts';
import {
  type DaemonProcess,
  freePort,
  kill9,
  launch,
  runCli,
  startDaemonProcess,
  stopGracefully,
  tempDir,
} from '../support/daemon-process.ts';

const running: DaemonProcess[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await kill9(d);
});

const rec = (d: DaemonProcess, key: string) => `${d.url}/v1/records/${encodeURIComponent(key)}`;

describe('shoal start as a process', () => {
  it('keeps every acknowledged write across SIGKILL and restart (durability fsync)', async () => {
    const d = await startDaemonProcess(['--durability', 'fsync']);
    running.push(d);
    const acked = new Map<string, Buffer>();
    // Writes in flight while the kill lands: only acknowledged ones must survive.
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 400; i++) {
        const key = `w${w}/k${i}/${randomBytes(2).toString('hex')}`;
        const value = randomBytes(1 + ((i * 7919) % 5000));
        try {
          const res = await fetch(rec(d, key), { method: 'PUT', body: value });
          if (res.status === 201) acked.set(key, value);
        } catch {
          return; // the daemon is gone
        }
      }
    });
    // Kill mid-load: once 50 writes are acknowledged (bounded wait), while the writers keep going.
    const deadline = Date.now() + 20_000;
    while (acked.size < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await kill9(d);
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThan(20);
    const again = await launch(d);
    running.push(again);
    for (const [key, value] of acked) {
      const res = await fetch(rec(again, key));
      expect(res.status, key).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(value), key).toBe(true);
    }
  });

  it('runs on the daemon Node flags from every launcher, and warns when started without them', async () => {
    const root = resolve(import.meta.dirname, '../..');
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
    const shebang = readFileSync(join(root, 'node/cli.ts'), 'utf8').split('\n')[0];
    for (const flag of DAEMON_NODE_FLAGS) {
      expect(scripts.start).toContain(`node ${flag} `);
      expect(scripts.shoal).toContain(`node ${flag} `);
      expect(shebang).toContain(` ${flag}`);
    }
    const withFlags = await startDaemonProcess();
    running.push(withFlags);
    const port = await freePort();
    const dataDir = tempDir();
    const args = ['start', '--data-dir', dataDir, '--http-port', String(port), '--log-level', 'warn'];
    const plain = await launch({ url: `http://127.0.0.1:${port}`, dataDir, args }, []);
    running.push(plain);
    const deadline = Date.now() + 5_000;
    while (!plain.output().includes('recommended Node flags') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(plain.output()).toContain('recommended Node flags');
    for (const flag of DAEMON_NODE_FLAGS) expect(plain.output()).toContain(flag);
    expect(withFlags.output()).not.toContain('recommended Node flags');
  });

  it('answers /admin/status from the moment HTTP is up, also while the net and layout still start', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const url = `http://127.0.0.1:${port}`;
    const answers: number[] = [];
    let ready = false;
    const poll = (async () => {
      const deadline = Date.now() + 20_000;
      while (!ready && Date.now() < deadline) {
        try {
          const res = await fetch(`${url}/admin/status`);
          answers.push(res.status);
          ready = ((await res.json()) as { ready?: boolean }).ready === true;
        } catch {
          await new Promise((r) => setTimeout(r, 2)); // not listening yet
        }
      }
    })();
    running.push(await launch({ url, dataDir, args: ['start', '--data-dir', dataDir, '--http-port', String(port)] }));
    await poll;
    expect(ready).toBe(true);
    expect(answers.filter((s) => s !== 200)).toEqual([]);
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    const d = await startDaemonProcess();
    running.push(d);
    await fetch(rec(d, 'a'), { method: 'PUT', body: 'v' });
    expect(await stopGracefully(d)).toBe(0);
  });

  it('refuses a data directory locked by another daemon, with a clear message and a non-zero exit', async () => {
    const d = await startDaemonProcess();
    running.push(d);
    const second = await runCli(['start', '--data-dir', d.dataDir, '--http-port', '0']);
    expect(second.code).not.toBe(0);
    expect(second.out).toMatch(/STORE_LOCKED: data directory .* is locked by another shoal daemon/);
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
  });

  it('refuses an HTTP port in use with ADDRESS_IN_USE on one line, before it creates the data directory', async () => {
    const port = await freePort();
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', r));
    try {
      const dataDir = join(tempDir(), 'not-yet');
      const res = await runCli(['start', '--data-dir', dataDir, '--http-port', String(port)]);
      expect(res.code).toBe(1);
      expect(res.out).toContain(`shoal: ADDRESS_IN_USE: HTTP address 127.0.0.1:${port} is already in use`);
      expect(res.out).not.toMatch(/unexpected error|\n\s+at /);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('refuses an unwritable data directory', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const res = await runCli(['start', '--data-dir', join(file, 'sub'), '--http-port', '0']);
    expect(res.code).not.toBe(0);
    expect(res.out).toMatch(/STORE_UNWRITABLE: data directory .* cannot be created or written/);
  });

  it('rejects bad flags and config with exit code 2', async () => {
    expect((await runCli(['start', '--durability', 'sometimes'])).out).toMatch(
      /CONFIG_INVALID: flag --durability: expected one of fsync, os/,
    );
    const bad = await runCli(['start', '--no-such-flag']);
    expect(bad.code).toBe(2);
    const cfg = join(tempDir(), 'c.json');
    writeFileSync(cfg, '{"zoen": "eu"}');
    const res = await runCli(['start', '--config', cfg]);
    expect(res.code).toBe(2);
    expect(res.out).toMatch(/unknown key "zoen"/);
    const matrix = await runCli(['start', '--latency-matrix', '{"eu": {"na": "far"}}']);
    expect(matrix.code).toBe(2);
    expect(matrix.out).toMatch(/CONFIG_INVALID: --latency-matrix .*"eu" → "na" must be a non-negative number/);
  });

  it('takes settings from the config file with flags taking precedence', async () => {
    const dir = tempDir();
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ zone: 'from-file', maxValueBytes: 10 }));
    const d = await startDaemonProcess(['--config', cfg, '--zone', 'from-flag']);
    running.push(d);
    const status = await (await fetch(`${d.url}/admin/status`)).json();
    expect(status.zone).toBe('from-flag');
    expect((await fetch(rec(d, 'x'), { method: 'PUT', body: 'more than ten bytes' })).status).toBe(413);
  });

  it('prints help and the version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/init-cluster/);
    const startHelp = await runCli(['start', '--help']);
    expect(startHelp.out).toMatch(/--durability/);
    for (const args of [
      ['status', '--bogus'],
      ['leave', '--timeout'],
      ['placement', 'show'],
    ]) {
      const bad = await runCli(args);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.out).not.toMatch(/unexpected error|\n\s+at /);
    }
  });
});

describe('shoal init-cluster', () => {
  it('writes a pnet key file and the admin key pair beside it, and refuses to overwrite them', async () => {
    const out = join(tempDir(), 'cluster.key');
    expect((await runCli(['init-cluster', '--out', out])).code).toBe(0);
    // The admin key is private (0600) and its id is the id of that key.
    expect(statSync(`${out}.admin`).mode & 0o777).toBe(0o600);
    const id = readFileSync(`${out}.admin.pub`, 'utf8').trim();
    expect(peerIdFromPrivateKey(privateKeyFromProtobuf(readFileSync(`${out}.admin`))).toString()).toBe(id);
    const again = await runCli(['init-cluster', '--out', out]);
    expect(again.code).toBe(1);
  });
});

describe('over-size bodies over a real socket', () => {
  it('answer 413 PAYLOAD_TOO_LARGE to a client that sends the whole body first, and keep serving', async () => {
    const d = await startDaemonProcess(['--max-value-bytes', '1048576']);
    running.push(d);
    const res = await fetch(rec(d, 'big'), { method: 'PUT', body: Buffer.alloc(5 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe('PAYLOAD_TOO_LARGE');
    expect((await fetch(rec(d, 'big'))).status).toBe(404);
    expect((await fetch(rec(d, 'small'), { method: 'PUT', body: 'ok' })).status).toBe(201);
  });
});
