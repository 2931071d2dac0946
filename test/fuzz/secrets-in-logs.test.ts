/**
 * No secret in the logs: two real `shoal start` processes with a cluster secret and an admin token, at `trace`,
 * get data requests, admin requests with the right token and with wrong ones (the token mistyped, without
 * `Bearer`, as Basic credentials, in another header), a join, failed joins and bad input; then everything
 * they printed (stdout's JSON lines and stderr) is searched for the admin token, the cluster secret (the file
 * and its key as hex, base64 and byte lists) and each daemon's peer private key (likewise).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { afterAll, describe, expect, it } from 'vitest';
import { generateClusterSecret, PEER_KEY_FILE } from '../../src/net/index.ts';
import { clusterKeyOf } from '../../src/net/peer-key.ts';
import { type DaemonProcess, freePort, launch, stopGracefully, tempDir } from '../support/daemon-process.ts';

const TOKEN = 'tok-3c9f1e7a5b2d4c6e8f0a1b2c3d4e5f60';
const started: DaemonProcess[] = [];
afterAll(async () => {
  for (const d of started) await stopGracefully(d);
});

/** The ways a byte secret could be printed: hex (either case), base64, base64url, and as a JSON byte list or object. */
function forms(label: string, bytes: Uint8Array): Array<[string, string]> {
  const b = Buffer.from(bytes);
  const head = [...b.subarray(0, 12)];
  return [
    [`${label} hex`, b.toString('hex')],
    [`${label} HEX`, b.toString('hex').toUpperCase()],
    [`${label} base64`, b.toString('base64').replace(/=+$/, '')],
    [`${label} base64url`, b.toString('base64url')],
    [`${label} byte list`, head.join(',')],
    [`${label} byte object`, head.map((x, i) => `"${i}":${x}`).join(',')],
  ];
}

/** Every needle found in `text`, by label. */
function leaks(text: string, needles: Array<[string, string]>): string[] {
  return needles.filter(([, n]) => text.includes(n)).map(([label]) => label);
}

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.text() };
}
async function send(method: string, url: string, body: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(20_000) });
  return { status: r.status, body: await r.text() };
}

describe('logs at trace level', () => {
  it('the scanner finds a secret in every form it looks for (a check of the check)', () => {
    const key = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
    for (const [label, text] of forms('k', key))
      expect(leaks(`{"msg":"x","v":"${text}"}`, forms('k', key))).toContain(label);
    expect(leaks(JSON.stringify({ key }), forms('k', key))).toContain('k byte object');
    expect(leaks(JSON.stringify({ key: [...key] }), forms('k', key))).toContain('k byte list');
    expect(leaks('nothing here', forms('k', key))).toEqual([]);
  });

  it('hold neither the admin token, nor the cluster secret, nor a peer private key', async () => {
    const dir = tempDir('shoal-fuzz-secrets-');
    const tokenFile = join(dir, 'token');
    const secretFile = join(dir, 'cluster.key');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const secret = generateClusterSecret();
    writeFileSync(secretFile, secret);
    const daemonArgs = async (name: string, zone: string) => {
      const port = await freePort();
      const dataDir = join(dir, name);
      const args = [
        'start',
        '--data-dir',
        dataDir,
        '--http-port',
        String(port),
        '--zone',
        zone,
        '--log-level',
        'trace',
      ];
      args.push('--cluster-secret', secretFile, '--admin-token-file', tokenFile, '--dsm-policy', 'off');
      return { url: `http://127.0.0.1:${port}`, dataDir, args };
    };
    const auth = { authorization: `Bearer ${TOKEN}` };
    const a = await launch(await daemonArgs('a', 'z1'));
    started.push(a);
    const aStatus = JSON.parse((await get(`${a.url}/admin/status`, auth)).body) as {
      multiaddrs: string[];
      peerId: string;
    };
    const bArgs = await daemonArgs('b', 'z2');
    const b = await launch(bArgs);
    started.push(b);

    // A join through the admin API (and the failed ones a confused operator makes). A join answers 503
    // when it times out, which a loaded CI machine can make happen; an operator retries, so does this.
    const joinA = () =>
      send('POST', `${b.url}/admin/join`, JSON.stringify({ multiaddr: aStatus.multiaddrs[0] }), {
        ...auth,
        'content-type': 'application/json',
      });
    let joined = (await joinA()).status;
    for (let attempt = 1; joined === 503 && attempt < 4; attempt++) joined = (await joinA()).status;
    expect(joined).toBe(200);
    for (const bad of ['garbage', '/ip4/127.0.0.1/tcp/1'])
      expect(
        (
          await send('POST', `${b.url}/admin/join`, JSON.stringify({ multiaddr: bad }), {
            ...auth,
            'content-type': 'application/json',
          })
        ).status,
      ).toBeGreaterThanOrEqual(400);
    // Refused credentials: each carries the token (or most of it) somewhere a careless log line would print.
    const refused: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: TOKEN },
      { authorization: `bearer ${TOKEN}` },
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      { 'x-admin-token': TOKEN, cookie: `token=${TOKEN}` },
    ];
    for (const d of [a, b])
      for (const headers of refused)
        expect((await get(`${d.url}/admin/status`, headers)).status, JSON.stringify(headers)).toBe(401);
    // Data traffic, a replicated write, bad input and admin calls that log (placement, DSM, layout).
    for (const d of [a, b]) {
      expect(
        (await send('PUT', `${d.url}/v1/records/k-${d.url.slice(-5)}`, 'v', { 'content-type': 'text/plain' })).status,
      ).toBeLessThan(300);
      expect((await get(`${d.url}/v1/records/k-${a.url.slice(-5)}?consistency=all`)).status).toBe(200);
      expect(
        (await send('PUT', `${d.url}/v1/records/bad?type=doc`, '{', { 'content-type': 'application/json' })).status,
      ).toBe(400);
      expect((await get(`${d.url}/v1/records/%ff`)).status).toBe(400);
      expect((await get(`${d.url}/admin/peers`, auth)).status).toBe(200);
      await send('POST', `${d.url}/admin/dsm/pause`, '', auth);
      await get(`${d.url}/admin/layout/epochs?scope=all`, auth);
    }
    await send(
      'POST',
      `${a.url}/admin/records/k-${a.url.slice(-5)}/placement`,
      JSON.stringify({ replicas: [aStatus.peerId], force: true }),
      { ...auth, 'content-type': 'application/json' },
    );
    await get(`${a.url}/metrics`);

    for (const d of [b, a]) expect(await stopGracefully(d)).toBe(0);
    const needles: Array<[string, string]> = [
      ['token', TOKEN],
      ...forms('token', Buffer.from(TOKEN)),
      ['cluster secret file', Buffer.from(secret).toString('utf8').trim().split('\n').pop()!],
      ...forms('cluster key', clusterKeyOf(secret)),
    ];
    for (const d of [a, b]) {
      const protobuf = readFileSync(join(d.dataDir, PEER_KEY_FILE));
      const raw = privateKeyFromProtobuf(protobuf).raw;
      needles.push(
        ...forms(`peer key file ${d.url}`, protobuf),
        ...forms(`peer private key ${d.url}`, raw.subarray(0, 32)),
      );
    }
    for (const d of [a, b]) {
      const out = d.output();
      const lines = out.split('\n').filter((l) => l.startsWith('{'));
      // The logs are there, at the levels asked for: the check is not of an empty string.
      expect(lines.length, 'JSON log lines').toBeGreaterThan(10);
      expect(out).toMatch(/"level":20/);
      expect(out).toMatch(/request refused/);
      expect(leaks(out, needles), `secrets in the output of ${d.url}`).toEqual([]);
    }
  }, 90_000);
});
