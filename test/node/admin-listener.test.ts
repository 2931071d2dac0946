/**
 * One real daemon with the admin API on a listener of its own, a token, `--data-auth on` and an admin rate
 * limit that applies to loopback too; the new CLI commands run against it as a user would.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DaemonProcess,
  freePort,
  kill9,
  runShoal,
  startDaemonProcess,
  tempDir,
} from '../support/daemon-process.ts';

const TOKEN = 'listener-test-token-42';
const ADMIN_LIMIT = 40;
let d: DaemonProcess;
let admin: string;
let tokenFile: string;
let auth: string[];
const bearer = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  tokenFile = join(tempDir(), 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const adminPort = await freePort();
  admin = `http://127.0.0.1:${adminPort}`;
  d = await startDaemonProcess([
    ...['--admin-port', String(adminPort), '--admin-token-file', tokenFile, '--data-auth', 'on'],
    ...['--rate-limit-admin', String(ADMIN_LIMIT), '--rate-limit-loopback', 'limit'],
    ...['--stats-bucket-ms', '1000', '--pae-interval-ms', '500', '--zone', 'z-home'],
  ]);
  auth = ['--url', admin, '--admin-token-file', tokenFile];
}, 30_000);
afterAll(async () => kill9(d));

const get = (url: string, headers: Record<string, string> = bearer) => fetch(url, { headers });

describe('the admin API on its own listener', () => {
  it('serves /admin/*, /metrics and /dashboard on the admin port; the data port answers 404 ROUTE_NOT_FOUND', async () => {
    const status = await get(`${admin}/admin/status`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ zone: 'z-home', httpUrl: d.url, adminUrl: admin });
    expect((await get(`${admin}/metrics`)).status).toBe(200);
    expect((await get(`${admin}/dashboard/`)).status).toBe(200);
    for (const path of ['/admin/status', '/admin/peers', '/metrics', '/dashboard/']) {
      const res = await get(`${d.url}${path}`);
      expect(res.status, path).toBe(404);
      expect((await res.json()).code, path).toBe('ROUTE_NOT_FOUND');
    }
    // And the admin port serves no data.
    expect((await get(`${admin}/v1/records/k`)).status).toBe(404);
    // Both answer health probes; each document describes only its own listener.
    expect((await get(`${d.url}/readyz`, {})).status).toBe(200);
    expect((await get(`${admin}/healthz`, {})).status).toBe(200);
    const dataDoc = (await (await get(`${d.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(dataDoc.paths).some((p) => p.startsWith('/admin'))).toBe(false);
    expect(Object.keys(dataDoc.paths)).toContain('/v1/records/{key}');
  });

  it('needs the token on the admin API: missing and wrong are 401 UNAUTHORIZED', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
      const res = await get(`${admin}/admin/status`, headers);
      expect(res.status).toBe(401);
      expect((await res.json()).code).toBe('UNAUTHORIZED');
    }
  });

  it('with --data-auth on, /v1/* needs the same token: missing and wrong are 401, right works', async () => {
    const url = `${d.url}/v1/records/secured`;
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
      const res = await fetch(url, { method: 'PUT', body: 'v', headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    }
    expect((await fetch(url, { method: 'PUT', body: 'v', headers: bearer })).status).toBe(201);
    const read = await get(url);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('v');
  });
});

describe('CLI clients of the admin API', () => {
  it('shoal peers: a table of the members, and --json with the fields', async () => {
    const human = await runShoal(['peers', ...auth]);
    expect(human.code, human.stderr).toBe(0);
    for (const col of ['peer id', 'zone', 'state', 'address', 'store', 'used / limit', 'rtt'])
      expect(human.stdout).toContain(col);
    expect(human.stdout).toMatch(/1 member\(s\), 1 up; cluster epoch #\d+/);
    // Its address: the data API, and the admin listener of its own.
    expect(human.stdout).toContain(`z-home │ up (this daemon) │ ${d.url} (admin ${admin}) │ level`);
    const json = await runShoal(['peers', '--json', ...auth]);
    expect(json.code, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body.epoch).toBeGreaterThanOrEqual(0);
    expect(body.members).toHaveLength(1);
    expect(body.members[0]).toMatchObject({
      zone: 'z-home',
      state: 'up',
      status: 'up',
      storeKind: 'level',
      apiUrl: d.url,
    });
    expect(human.stdout).toContain(body.members[0].peerId);
  });

  it('shoal ring: partitions per member and zone, under-replicated count; --json is /admin/ring', async () => {
    const human = await runShoal(['ring', ...auth]);
    expect(human.code, human.stderr).toBe(0);
    // One daemon and R = 3: every partition is under-replicated, and it holds all of them.
    expect(human.stdout).toContain('4096 partitions × R=3; under-replicated: 4096');
    expect(human.stdout).toMatch(/z-home\s*│\s*up\s*│\s*1\s*│\s*4096\s*│\s*4096\s*│\s*100\.0 %/);
    for (const col of ['peer id', 'capacity', 'partitions', 'primaries', 'members'])
      expect(human.stdout).toContain(col);
    const json = JSON.parse((await runShoal(['ring', '--json', ...auth])).stdout);
    expect(json).toMatchObject({ partitions: 4096, replicas: 3, underReplicated: 4096 });
    expect(json.members[0]).toMatchObject({ zone: 'z-home', replicas: 4096, state: 'up' });
    // named as /admin/peers names members (the older id is kept)
    expect(json.members[0].peerId).toMatch(/^12D3KooW/);
    expect(json.members[0].id).toBe(json.members[0].peerId);
    expect(human.stdout).toContain(json.members[0].peerId);
  });

  it('shoal stats top and shoal heatmap --top 20: the records read from a zone, as tables and --json', async () => {
    const read = () =>
      fetch(`${d.url}/v1/records/secured`, { headers: { ...bearer, 'x-shoal-origin': 'eu' } }).then((r) => r.text());
    let heat: { records: Array<{ key: string; zones: Array<{ zone: string; probability: number }> }> } = {
      records: [],
    };
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      for (let i = 0; i < 10; i++) await read();
      const r = await runShoal(['heatmap', '--top', '20', '--json', ...auth]);
      expect(r.code, r.stderr).toBe(0);
      heat = JSON.parse(r.stdout);
      const eu = heat.records.find((x) => x.key === 'secured')?.zones.find((z) => z.zone === 'eu');
      if ((eu?.probability ?? 0) > 0.5) break;
      await new Promise((res) => setTimeout(res, 300));
    }
    expect(heat.records.find((x) => x.key === 'secured')).toBeDefined();
    const human = await runShoal(['heatmap', '--top', '20', ...auth]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/hottest record\(s\) × \d+ zone\(s\); forecast made \d{4}-/);
    expect(human.stdout).toMatch(/key\s*│\s*expected\s*│.*eu/);
    expect(human.stdout).toMatch(/secured\s*│\s*[\d.]+\s*│.*\d+ %/);

    const top = await runShoal(['stats', 'top', '--zone', 'eu', ...auth]);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toContain('hottest records from eu in the last 1 h (cluster)');
    expect(top.stdout).toMatch(/secured\s*│\s*\d+\s*│\s*\d+\s*│\s*0/);
    // --window takes a duration as the API's window= does; --window-ms is its older name
    const quarter = await runShoal(['stats', 'top', '--zone', 'eu', '--window', '15m', ...auth]);
    expect(quarter.stdout).toContain('hottest records from eu in the last 15 min (cluster)');
    const old = await runShoal(['stats', 'top', '--zone', 'eu', '--window-ms', '900000', ...auth]);
    expect(old.stdout).toBe(quarter.stdout);
    const topJson = JSON.parse((await runShoal(['stats', 'top', '--json', '--limit', '5', ...auth])).stdout);
    const row = topJson.records.find((x: { key: string }) => x.key === 'secured');
    expect(row).toMatchObject({ key: 'secured' });
    expect(row.reads).toBeGreaterThanOrEqual(10);
    expect(row.writes).toBeGreaterThanOrEqual(1);
  }, 40_000);

  it('shoal status: a table of the daemon, and --json is /admin/status', async () => {
    const human = await runShoal(['status', ...auth]);
    expect(human.code, human.stderr).toBe(0);
    const json = await runShoal(['status', '--json', ...auth]);
    expect(json.code, json.stderr).toBe(0);
    const s = JSON.parse(json.stdout);
    expect(s).toMatchObject({ zone: 'z-home', store: 'level', httpUrl: d.url, adminUrl: admin, ready: true });
    expect(human.stdout).toMatch(new RegExp(`peer id\\s*│\\s*${s.peerId}`));
    expect(human.stdout).toMatch(/zone\s*│\s*z-home/);
    expect(human.stdout).toMatch(/ready\s*│\s*yes/);
    expect(human.stdout).toMatch(/cluster epoch\s*│\s*#\d+/);
    expect(human.stdout).toMatch(new RegExp(`data API\\s*│\\s*${d.url}`));
    expect(human.stdout).toMatch(new RegExp(`admin API\\s*│\\s*${admin}`));
    // Every multiaddr, one a line, as `--join` takes it.
    expect(s.multiaddrs.length).toBeGreaterThan(0);
    for (const ma of s.multiaddrs) expect(human.stdout).toContain(ma);
    expect(() => JSON.parse(human.stdout)).toThrow();
    // SHOAL_URL and SHOAL_ADMIN_TOKEN_FILE instead of the flags.
    const env = await runShoal(['status', '--json'], { SHOAL_URL: admin, SHOAL_ADMIN_TOKEN_FILE: tokenFile });
    expect(env.code, env.stderr).toBe(0);
    expect(JSON.parse(env.stdout).peerId).toBe(s.peerId);
  });

  it('shoal dsm status, plan, pause, resume and policy against the live daemon, as tables and --json', async () => {
    const status = await runShoal(['dsm', 'status', ...auth]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/policy\s*│\s*hybrid/);
    expect(status.stdout).toMatch(/partitions planned\s*│\s*\d+/);
    expect(status.stdout).toMatch(/next cycle\s*│\s*\d{4}-\d\d-\d\dT/);
    const plan = await runShoal(['dsm', 'plan', ...auth]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^\d+ move\(s\) planned, \d+ record\(s\) considered; skipped: /);
    const planJson = JSON.parse((await runShoal(['dsm', 'plan', '--json', '--limit', '5', ...auth])).stdout);
    expect(planJson).toMatchObject({ moves: expect.any(Array), skipped: expect.any(Array) });
    expect(planJson.considered).toBeGreaterThanOrEqual(0);
    const paused = await runShoal(['dsm', 'pause', ...auth]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/DSM paused\.\n[\s\S]*paused\s*│\s*yes/);
    expect(JSON.parse((await runShoal(['dsm', 'status', '--json', ...auth])).stdout).paused).toBe(true);
    const resumed = JSON.parse((await runShoal(['dsm', 'resume', '--json', ...auth])).stdout);
    expect(resumed.paused).toBe(false);
    // --cluster on a lone daemon: applied here, and no other daemon to ask.
    const everywhere = await runShoal(['dsm', 'pause', '--cluster', ...auth]);
    expect(everywhere.stdout).toContain('DSM paused here and on 0 of 0 other daemons.');
    expect(JSON.parse((await runShoal(['dsm', 'resume', '--cluster', '--json', ...auth])).stdout)).toMatchObject({
      paused: false,
      cluster: [],
    });
    expect((await runShoal(['dsm', 'status', '--cluster', ...auth])).code).toBe(2);
    const policy = await runShoal(['dsm', 'policy', 'reactive', ...auth]);
    expect(policy.code, policy.stderr).toBe(0);
    expect(policy.stdout).toContain('DSM policy set to reactive.');
    expect(JSON.parse((await runShoal(['dsm', 'policy', 'hybrid', '--json', ...auth])).stdout).policy).toBe('hybrid');
    const bad = await runShoal(['dsm', 'policy', 'greedy', ...auth]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^shoal: INVALID_BODY: body\/policy must be one of off, reactive, proactive, hybrid\n/);
  });

  it('shoal migrations: none yet on a lone daemon; --cluster lists it as the one daemon asked', async () => {
    const local = await runShoal(['migrations', ...auth]);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toContain('in flight (0):\n(none)');
    expect(local.stdout).toContain('history (0, most recent first):\n(none)');
    const cluster = await runShoal(['migrations', '--cluster', ...auth]);
    expect(cluster.code, cluster.stderr).toBe(0);
    expect(cluster.stdout).toContain('cluster: moves of 1 of 1 daemon(s)\n');
    const json = JSON.parse((await runShoal(['migrations', '--cluster', '--json', ...auth])).stdout);
    expect(json).toEqual({
      inFlight: [],
      history: [],
      daemons: [{ peerId: expect.any(String), zone: 'z-home', answered: true, inFlight: 0, history: 0 }],
    });
  });

  it('a token file that is missing or empty is exit 2 with one line naming it', async () => {
    const empty = join(tempDir(), 'empty');
    writeFileSync(empty, '\n');
    const missing = join(tempDir(), 'no-such-token');
    for (const [file, why] of [
      [missing, `cannot read the admin token file ${missing}: ENOENT`],
      [empty, `the admin token file ${empty} is empty`],
    ]) {
      for (const cmd of [['status'], ['peers'], ['migrations']]) {
        const r = await runShoal([...cmd, '--url', admin, '--admin-token-file', file]);
        expect(r.code, `${cmd.join(' ')} ${file}`).toBe(2);
        expect(r.stderr).toBe(`shoal: CONFIG_INVALID: ${why}\n`);
      }
    }
    // The same from SHOAL_ADMIN_TOKEN_FILE.
    const env = await runShoal(['status', '--url', admin], { SHOAL_ADMIN_TOKEN_FILE: missing });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('cannot read the admin token file');
  });

  it('a missing or wrong token is exit 1 with UNAUTHORIZED and a hint; the data port names the admin listener', async () => {
    const wrongFile = join(tempDir(), 'wrong');
    writeFileSync(wrongFile, 'not-it');
    for (const args of [
      ['status', '--url', admin],
      ['peers', '--url', admin],
      ['ring', '--url', admin, '--admin-token-file', wrongFile],
      ['migrations', '--url', admin, '--admin-token-file', wrongFile],
      ['placement', 'list', '--url', admin],
      ['leave', '--url', admin],
      ['remove', 'abc', '--url', admin, '--admin-token-file', wrongFile],
      ['heatmap', '--url', admin],
      ['stats', 'top', '--url', admin],
    ]) {
      const r = await runShoal(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^shoal: UNAUTHORIZED: .*\nshoal: give the admin token: --admin-token-file/);
      expect(r.stdout).toBe('');
    }
    const dataPort = await runShoal(['peers', '--url', d.url, '--admin-token-file', tokenFile]);
    expect(dataPort.code).toBe(1);
    expect(dataPort.stderr).toContain(
      "ROUTE_NOT_FOUND: no route GET /admin/status\nshoal: is --url the daemon's admin",
    );
  });

  it('an unreachable daemon is exit 1 with a clear message; usage errors exit 2', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    for (const cmd of [
      ...[['status'], ['peers'], ['ring'], ['heatmap'], ['stats', 'top'], ['migrations', '--cluster']],
      ...[['placement', 'list'], ['leave'], ['remove', 'abc'], ['layout'], ['dsm', 'status']],
    ]) {
      const r = await runShoal([...cmd, '--url', dead]);
      expect(r.code, cmd.join(' ')).toBe(1);
      expect(r.stderr).toContain(`cannot reach the daemon at ${dead}`);
    }
    for (const args of [
      ['heatmap', '--top', '0'],
      ['peers', 'extra'],
      ['status', 'extra'],
      ['stats', 'top', '--scope', 'world'],
      ['stats', 'top', '--window', 'soon'],
      ['stats', 'top', '--window-ms', '0'],
    ]) {
      const r = await runShoal([...args, ...auth]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('usage:');
    }
  });
});

describe('rate limit on the admin listener', () => {
  it(`answers 429 RATE_LIMITED with retry-after past ${ADMIN_LIMIT} requests per second from one client`, async () => {
    const answers = await Promise.all(
      Array.from({ length: ADMIN_LIMIT * 2 }, () =>
        get(`${admin}/admin/status`).then(async (r) => ({ r, body: await r.json() })),
      ),
    );
    const limited = answers.filter((a) => a.r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.r.status === 200).length).toBeGreaterThan(0);
    expect(answers.every((a) => a.r.status === 200 || a.r.status === 429)).toBe(true);
    expect(limited[0].body).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringContaining(`more than ${ADMIN_LIMIT}`),
    });
    expect(Number(limited[0].r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The data listener has its own limit (none here): unaffected.
    expect((await get(`${d.url}/v1/records/secured`)).status).toBe(200);
    // And after the window the client is served again.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await get(`${admin}/admin/status`)).status).toBe(200);
  });
});

describe('a second daemon with an admin listener of its own', () => {
  let d2: DaemonProcess | undefined;
  afterAll(async () => {
    if (d2) await kill9(d2);
  });

  it('announces its admin URL in its member record: /admin/peers, shoal peers and the dashboard tile link use it', {
    timeout: 40_000,
  }, async () => {
    const first = (await (await get(`${admin}/admin/status`)).json()) as { multiaddrs: string[] };
    const admin2Port = await freePort();
    const admin2 = `http://127.0.0.1:${admin2Port}`;
    d2 = await startDaemonProcess([
      ...['--admin-port', String(admin2Port), '--admin-token-file', tokenFile, '--zone', 'z-away'],
      ...['--join', first.multiaddrs[0]],
    ]);
    type M = { zone: string; apiUrl: string; adminUrl?: string; self?: boolean };
    let members: M[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      members = ((await (await get(`${admin}/admin/peers`)).json()) as { members: M[] }).members;
      if (members.some((m) => m.zone === 'z-away')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(members.find((m) => m.zone === 'z-away')).toMatchObject({ apiUrl: d2.url, adminUrl: admin2 });
    expect(members.find((m) => m.self)).toMatchObject({ apiUrl: d.url, adminUrl: admin });
    const human = await runShoal(['peers', ...auth]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`${d2.url} (admin ${admin2})`);
    // The link the dashboard's tile takes (src/dashboard/cluster.js): that daemon's own dashboard answers there.
    const page = await get(`${admin2}/dashboard/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>shoal dashboard</title>');
  });
});
