import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, launchTracked, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { freePort, runCli } from '../support/daemon-process.ts';
import { blockLinks, eventually, FAST_REPAIR, get, layoutAgreed, put } from './helpers.ts';

// R = 2 on three (then four) daemons: every key has a daemon that holds no copy.
const ARGS = [...FAST_REPAIR, '--replicas', '2', '--fault-injection', 'on'];
const KEY = 'moved/record 1';

type D = { url: string };
type Placement = {
  source: 'ring' | 'override';
  replicas: string[];
  ringReplicas: string[];
  epoch?: { scope: string; number: number; hash: string };
  history: Array<{ action: string; wave?: string; checksum?: string }>;
};
type Local = { present: boolean; version?: string; tombstone?: boolean };

const enc = encodeURIComponent;
const json = async <T>(r: Response): Promise<T> => (await r.json()) as T;
const placementOf = async (d: D, key = KEY) =>
  (await json<{ placement: Placement }>(await fetch(`${d.url}/admin/records/${enc(key)}`))).placement;
const localOf = async (d: D, key = KEY) => json<Local>(await fetch(`${d.url}/admin/records/${enc(key)}/local`));
const place = (d: D, body: unknown, key = KEY) =>
  fetch(`${d.url}/admin/records/${enc(key)}/placement`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
const unplace = (d: D, key = KEY) =>
  fetch(`${d.url}/admin/records/${enc(key)}/placement?reason=back`, {
    method: 'DELETE',
    signal: AbortSignal.timeout(60_000),
  });
const faults = blockLinks;
const putVersion = async (d: D, key: string, value: string): Promise<string> => {
  const r = await fetch(`${d.url}/v1/records/${enc(key)}`, { method: 'PUT', body: value });
  expect(r.status).toBeLessThan(300);
  return (await json<{ version: string }>(r)).version;
};

let c: Cluster;
let ids: string[];

/** Every daemon's view of the key, for failure messages. */
async function views(): Promise<string> {
  const rows = await Promise.all(
    c.daemons.map(async (d, i) => {
      try {
        const [s, p] = await Promise.all([statusOf(d), placementOf(d)]);
        const log = d
          .output()
          .split('\n')
          .filter((l) => l.includes('overrides') || l.includes('move'))
          .slice(-5)
          .join('\n');
        return `#${i} ${s.peerId.slice(-6)} epoch ${s.epoch} ${p.source} [${p.replicas.map((r) => r.slice(-6))}] ${JSON.stringify(p.epoch)}\n${log}`;
      } catch (err) {
        return `#${i} ${(err as Error).message}`;
      }
    }),
  );
  return rows.join('\n');
}
const byId = (id: string) => c.daemons[ids.indexOf(id)];

beforeAll(async () => {
  c = await startCluster({ n: 3, extra: [ARGS, ARGS, ARGS] });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
  expect(await layoutAgreed(c.daemons)).toBe(true);
});

afterAll(stopAllClusters);

describe('per-record placement overrides', () => {
  let target: string[];
  let home: string[];

  it('refuses bad placements with stable codes', async () => {
    const d = c.daemons[0];
    const codeOf = async (r: Response) => ({ status: r.status, code: (await json<{ code: string }>(r)).code });
    expect(await codeOf(await place(d, { replicas: [] }))).toEqual({ status: 400, code: 'INVALID_PLACEMENT' });
    expect(await codeOf(await place(d, { replicas: [ids[0], ids[0]] }))).toEqual({
      status: 400,
      code: 'INVALID_PLACEMENT',
    });
    expect(await codeOf(await place(d, { replicas: [ids[0], '12D3KooWNotAMember'] }))).toEqual({
      status: 400,
      code: 'INVALID_PLACEMENT',
    });
    expect(await codeOf(await place(d, { replicas: [ids[0]] }))).toEqual({
      status: 409,
      code: 'PLACEMENT_UNDER_REPLICATED',
    });
    expect(await codeOf(await place(d, { replicas: 'x' }))).toEqual({ status: 400, code: 'INVALID_BODY' });
    expect(await codeOf(await place(d, { replicas: [ids[0], ids[1]], extra: 1 }))).toEqual({
      status: 400,
      code: 'INVALID_BODY',
    });
    // Short ids: a prefix every peer id shares is ambiguous, an unknown one names the members.
    const ambiguous = await place(d, { replicas: [ids[0], '12D3KooW'] });
    const why = await json<{ code: string; message: string }>(ambiguous);
    expect({ status: ambiguous.status, code: why.code }).toEqual({ status: 400, code: 'MEMBER_AMBIGUOUS' });
    expect(why.message).toContain(ids[1]);
    const unknown = await json<{ code: string; message: string }>(await place(d, { replicas: [ids[0], 'zzzzzz'] }));
    expect(unknown).toMatchObject({ code: 'INVALID_PLACEMENT', message: expect.stringContaining(ids[2]) });
    // KEY has no record yet: placing it is refused, unless a missing record is allowed.
    const missing = await place(d, { replicas: [ids[0].slice(-8), ids[1].slice(-8)] }, 'never/written');
    expect(await codeOf(missing)).toEqual({ status: 404, code: 'NOT_FOUND' });
    const pre = await place(d, { replicas: [ids[0], ids[1]], allowMissing: true }, 'never/written');
    expect(pre.status, await pre.clone().text()).toBe(200);
    expect((await placementOf(d, 'never/written')).source).toBe('override');
  });

  it('places a record on holders other than its ring replicas; writes during the move and a crash of the old holder lose nothing', {
    timeout: 90_000,
  }, async () => {
    expect(await put(c.daemons[0], KEY, 'v0')).toBe(201);
    const before = await placementOf(c.daemons[0]);
    expect(before.source).toBe('ring');
    home = before.ringReplicas;
    const outsider = ids.find((id) => !home.includes(id))!;
    target = [outsider, home[1]];
    // A writer keeps writing through the daemon that will hold no copy while the record moves.
    const oldHolder = ids.indexOf(home[0]);
    let stop = false;
    let lastAcked = 'v0';
    const writer = (async () => {
      for (let i = 1; !stop; i++) {
        const s = await put(c.daemons[oldHolder], KEY, `w${i}`).catch(() => 0);
        if (s === 200 || s === 201) lastAcked = `w${i}`;
      }
    })();
    // Ask a daemon that is not necessarily the partition coordinator: it forwards.
    const res = await place(c.daemons[2], { replicas: target, reason: 'test: manual migration' });
    const body = await json<{ changed: boolean; source: string; replicas: string[]; epoch: { number: number } }>(res);
    stop = true;
    await writer;
    expect(res.status, JSON.stringify(body) + (await views())).toBe(200);
    expect(body).toMatchObject({ changed: true, source: 'override', replicas: target });
    expect(body.epoch.number).toBeGreaterThan(0);
    // The old holder crashes right away, before or while it releases its copy.
    await c.kill9(oldHolder);

    // The new holders hold the record and serve it; no acknowledged write was lost.
    for (const id of target) expect(await eventually(async () => (await localOf(byId(id))).present, 10_000)).toBe(true);
    expect(await get(byId(target[0]), KEY)).toEqual({ status: 200, body: lastAcked });
    const back = await c.restart(oldHolder);
    await c.waitConverged(20_000);
    // Every daemon knows the override (the restarted one from its stored chain, or by pulling it).
    const learned = await eventually(
      async () => (await Promise.all(c.daemons.map((d) => placementOf(d)))).every((p) => p.source === 'override'),
      15_000,
    );
    expect(learned, await views()).toBe(true);
    // The old holder drops its copy, and serves the record from the new holders.
    expect(await eventually(async () => !(await localOf(back)).present, 20_000)).toBe(true);
    expect(await get(back, KEY)).toEqual({ status: 200, body: lastAcked });
    const converged = await eventually(async () => {
      const [a, b] = await Promise.all(target.map((id) => localOf(byId(id))));
      return a.present && a.version === b.version;
    }, 15_000);
    expect(converged).toBe(true);

    const p = await placementOf(back);
    expect(p).toMatchObject({ source: 'override', replicas: target, ringReplicas: home });
    expect(p.epoch?.scope).toMatch(/^partition:\d+$/);
    expect(p.history.map((e) => e.action)).toEqual(['set']);
  });

  it('the DHT directory tells a non-holder who holds the record', async () => {
    const nonHolder = byId(home[0]);
    const found = await eventually(async () => {
      const r = await json<{ directory: { replicas: string[]; overridden: boolean } | null; status: string }>(
        await fetch(`${nonHolder.url}/admin/holders/${enc(KEY)}`),
      );
      return (
        r.directory?.overridden === true && r.directory.replicas.join() === target.join() && r.status === 'current'
      );
    }, 10_000);
    expect(found).toBe(true);
    const none = await json<{ directory: unknown; status: string }>(
      await fetch(`${nonHolder.url}/admin/holders/${enc('never/placed')}`),
    );
    expect(none).toMatchObject({ directory: null, status: 'none' });
  });

  it('writes after the move land on the new holders, also through a daemon that holds no copy', async () => {
    const nonHolder = byId(home[0]);
    const version = await putVersion(nonHolder, KEY, 'after-move');
    const landed = await eventually(
      async () => (await Promise.all(target.map((id) => localOf(byId(id))))).every((l) => l.version === version),
      10_000,
    );
    expect(landed).toBe(true);
    expect((await localOf(nonHolder)).present).toBe(false);
    for (const d of c.daemons) expect(await get(d, KEY)).toEqual({ status: 200, body: 'after-move' });
  });

  it('a daemon that joins later learns the override and routes by it', { timeout: 90_000 }, async () => {
    const s0 = await statusOf(c.daemons[0]);
    const port = await freePort();
    const dataDir = join(c.root, 'd3');
    const d3 = await launchTracked({
      url: `http://127.0.0.1:${port}`,
      dataDir,
      args: [
        ...['start', '--data-dir', dataDir, '--http-port', String(port), '--zone', 'z3'],
        ...[
          '--cluster-secret',
          c.secretFile!,
          '--join',
          s0.multiaddrs[0],
          '--log-level',
          'warn',
          '--move-grace-ms',
          '1000',
          ...ARGS,
        ],
      ],
    });
    c.daemons.push(d3);
    await c.waitConverged(20_000);
    ids.push((await statusOf(d3)).peerId);
    expect(await layoutAgreed(c.daemons)).toBe(true);
    expect(await eventually(async () => (await get(d3, KEY)).body === 'after-move', 20_000)).toBe(true);
    expect(await eventually(async () => (await placementOf(d3)).source === 'override', 20_000)).toBe(true);
    expect((await placementOf(d3)).replicas).toEqual(target);
    const dir = await json<{ directory: { replicas: string[] } | null }>(
      await fetch(`${d3.url}/admin/holders/${enc(KEY)}`),
    );
    expect(dir.directory?.replicas).toEqual(target);
    // The joiner is not a holder: it must not end up with a copy.
    if (!target.includes(ids[3])) expect((await localOf(d3)).present).toBe(false);
  });

  it('a daemon that missed a move finds the holders through the DHT directory', { timeout: 90_000 }, async () => {
    const key = 'moved/while away';
    expect(await put(c.daemons[0], key, 'found')).toBe(201);
    const ring = (await placementOf(c.daemons[0], key)).ringReplicas;
    const [away, holder] = ids.filter((id) => !ring.includes(id));
    const others = ids.filter((id) => id !== away);
    // `away` is cut off from every other daemon while the record moves to `holder` alone.
    expect((await faults(byId(away), 'block', others)).status).toBe(200);
    const res = await place(byId(holder), { replicas: [holder], force: true, reason: 'test: while away' }, key);
    expect(res.status, await res.clone().text()).toBe(200);
    for (const id of ring) {
      expect(await eventually(async () => !(await localOf(byId(id), key)).present, 20_000)).toBe(true);
    }
    expect((await placementOf(byId(away), key)).source).toBe('ring');
    expect((await faults(byId(away), 'unblock', others)).status).toBe(200);
    // Its ring replicas have no copy any more: the read asks the DHT directory, fetches and verifies the
    // partition epochs from the holder, and reads there (or the periodic pull taught it first).
    expect(await eventually(async () => (await get(byId(away), key)).body === 'found', 30_000)).toBe(true);
    expect((await placementOf(byId(away), key)).replicas).toEqual([holder]);
    expect((await localOf(byId(away), key)).present).toBe(false);
  });

  it('DELETE of the override moves the record back to its ring replicas', { timeout: 60_000 }, async () => {
    const res = await unplace(c.daemons[0]);
    const body = await json<{ changed: boolean; source: string; replicas: string[] }>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ changed: true, source: 'ring' });
    const ringNow = body.replicas;
    const back = await eventually(
      async () => (await Promise.all(c.daemons.map((d) => placementOf(d)))).every((p) => p.source === 'ring'),
      15_000,
    );
    expect(back, await views()).toBe(true);
    for (const id of ringNow)
      expect(await eventually(async () => (await localOf(byId(id))).present, 10_000)).toBe(true);
    for (const id of ids.filter((x) => !ringNow.includes(x))) {
      expect(await eventually(async () => !(await localOf(byId(id))).present, 20_000)).toBe(true);
    }
    for (const d of c.daemons) expect(await get(d, KEY)).toEqual({ status: 200, body: 'after-move' });
    expect((await placementOf(c.daemons[1])).history.map((e) => e.action)).toEqual(['set', 'removed']);
    // Dropping an override that does not exist changes nothing.
    expect(await json<{ changed: boolean }>(await unplace(c.daemons[1]))).toMatchObject({ changed: false });
  });

  it('the shoal placement command sets, shows, lists and resets a placement', { timeout: 90_000 }, async () => {
    const d = c.daemons[0];
    const key = 'cli/record 2';
    expect(await put(d, key, 'by-cli')).toBeLessThan(300);
    const ring = (await placementOf(d, key)).ringReplicas;
    const chosen = [...ids.filter((id) => !ring.includes(id)), ...ring].slice(0, 2).sort();
    expect(chosen).not.toEqual([...ring].sort());
    const cli = (...args: string[]) => runCli(['placement', ...args, '--url', d.url], 90_000);

    // Short ids, as the logs print them (the last 8 characters).
    const short = chosen.map((id) => id.slice(-8)).join(',');
    const set = await cli('set', key, '--replicas', short, '--reason', 'from the cli');
    expect(set.code, set.out).toBe(0);
    expect(JSON.parse(set.out)).toMatchObject({ changed: true, source: 'override' });
    expect([...(await placementOf(d, key)).replicas].sort()).toEqual(chosen);
    const shown = await cli('show', key);
    expect(shown.code, shown.out).toBe(0);
    expect(JSON.parse(shown.out).placement).toMatchObject({ source: 'override' });
    const listed = await cli('list');
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toContain(JSON.stringify(key));
    expect(await get(d, key)).toEqual({ status: 200, body: 'by-cli' });

    const refused = await cli('set', key, '--replicas', `${ids[0]},12D3KooWNotAMember`);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('INVALID_PLACEMENT');
    expect((await cli('set', key)).code).toBe(2); // no --replicas
    expect((await cli('move', key)).code).toBe(2);
    expect((await cli('show', key, '--bogus')).code).toBe(2);

    const reset = await cli('reset', key, '--reason', 'done');
    expect(reset.code, reset.out).toBe(0);
    expect(JSON.parse(reset.out)).toMatchObject({ changed: true, source: 'ring' });
    expect(await eventually(async () => (await placementOf(d, key)).source === 'ring', 15_000)).toBe(true);
    expect(await get(d, key)).toEqual({ status: 200, body: 'by-cli' });
  });

  it('places many records at once: one wave per coordinator, one result per record', { timeout: 60_000 }, async () => {
    const d = c.daemons[0];
    const keys = Array.from({ length: 24 }, (_, i) => `batch/${i}`);
    for (const k of keys) expect(await put(d, k, `v-${k}`)).toBeLessThan(300);
    const target = [ids[0], ids[1]];
    const body = (placements: unknown[]) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ placements, reason: 'batch test' }),
    });
    const res = await fetch(`${d.url}/admin/placements`, body(keys.map((key) => ({ key, replicas: target }))));
    const out = await json<{ results: Array<{ key: string; changed: boolean; wave?: string; error?: unknown }> }>(res);
    expect(res.status, JSON.stringify(out)).toBe(200);
    expect(out.results.map((r) => r.key)).toEqual(keys);
    expect(out.results.filter((r) => r.error !== undefined)).toEqual([]);
    // A coordinator moved its share as one wave: fewer waves than records.
    const waves = new Set(out.results.filter((r) => r.changed).map((r) => r.wave));
    expect(waves.size).toBeLessThanOrEqual(c.daemons.length);
    for (const k of keys) {
      expect([...(await placementOf(c.daemons[2], k)).replicas].sort()).toEqual([...target].sort());
      expect(await get(c.daemons[3], k)).toEqual({ status: 200, body: `v-${k}` });
    }
    // Each move records the bytes it copied: the record's size once per new holder (0 when every new holder had it).
    type M = { key: string; from: string[]; to: string[]; bytes: number; state: string };
    const moved = (
      await json<{ history: M[] }>(await fetch(`${d.url}/admin/migrations?scope=cluster&limit=1000`))
    ).history.filter((m) => keys.includes(m.key) && m.state === 'done');
    expect(moved.length).toBe(out.results.filter((r) => r.changed).length);
    for (const m of moved)
      expect(m.bytes, m.key).toBe(`v-${m.key}`.length * m.to.filter((h) => !m.from.includes(h)).length);
    expect(moved.some((m) => m.bytes > 0)).toBe(true);
    // A record's placement history names the move's wave and, for a move that copied it, its checksum then.
    for (const m of moved.filter((x) => x.bytes > 0)) {
      const last = (await placementOf(d, m.key)).history.at(-1);
      expect(last?.wave).toBe(out.results.find((r) => r.key === m.key)?.wave);
      expect(last?.checksum).toBe(createHash('sha256').update(`v-${m.key}`).digest('hex'));
    }
    const bad = await fetch(`${d.url}/admin/placements`, body([{ key: keys[0], replicas: [ids[0], 'nope'] }]));
    expect((await json<{ results: Array<{ error?: { code: string } }> }>(bad)).results[0].error?.code).toBe(
      'INVALID_PLACEMENT',
    );
    const dup = await fetch(
      `${d.url}/admin/placements`,
      body([
        { key: 'x', replicas: null },
        { key: 'x', replicas: null },
      ]),
    );
    expect(dup.status).toBe(400);
    const back = await fetch(`${d.url}/admin/placements`, body(keys.map((key) => ({ key, replicas: null }))));
    expect(back.status).toBe(200);
    for (const k of keys) expect((await placementOf(d, k)).source).toBe('ring');
  });
});
