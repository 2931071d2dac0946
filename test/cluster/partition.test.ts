import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, recordUrl, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { blockLinks, eventually, FAST_REPAIR, get } from './helpers.ts';

const ARGS = [...FAST_REPAIR, '--fault-injection', 'on'];
let c: Cluster;
let ids: string[];

beforeAll(async () => {
  c = await startCluster({ n: 3, extra: [ARGS, ARGS, ARGS] });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
});
afterAll(stopAllClusters);

const faults = (i: number, action: 'block' | 'unblock', peerIds: string[]) => blockLinks(c.daemons[i], action, peerIds);

/** Cuts daemon 0 off from 1 and 2 (or heals it), on every side of each link; the answers' statuses. */
const isolateFirst = (action: 'block' | 'unblock') =>
  Promise.all([faults(0, action, [ids[1], ids[2]]), faults(1, action, [ids[0]]), faults(2, action, [ids[0]])]).then(
    (rs) => rs.map((r) => r.status),
  );

async function send(
  i: number,
  method: string,
  key: string,
  body: string,
  query: string,
  contentType = 'application/octet-stream',
) {
  const r = await fetch(recordUrl(c.daemons[i], key) + query, {
    method,
    body,
    headers: { 'content-type': contentType },
    signal: AbortSignal.timeout(10_000),
  });
  await r.arrayBuffer();
  return r.status;
}

describe('a partitioned three-daemon cluster', () => {
  it('converges after healing: conflicting blobs resolve to one value everywhere, concurrent doc fields all survive', {
    timeout: 60_000,
  }, async () => {
    expect(await send(0, 'PUT', 'profile', '{"name":"ada"}', '?type=doc&consistency=all', 'application/json')).toBe(
      201,
    );
    expect(await send(0, 'PUT', 'color', 'base', '?consistency=all')).toBe(201);

    // A on one side, B and C on the other.
    expect(await isolateFirst('block')).toEqual([200, 200, 200]);
    const patch = 'application/merge-patch+json';
    expect(await send(0, 'PATCH', 'profile', '{"city":"Oslo"}', '?consistency=one', patch)).toBe(200);
    expect(await send(0, 'PUT', 'color', 'red', '?consistency=one')).toBe(200);
    expect(await send(1, 'PATCH', 'profile', '{"lang":"en"}', '?consistency=one', patch)).toBe(200);
    expect(await send(2, 'PATCH', 'profile', '{"name":"ada lovelace"}', '?consistency=one', patch)).toBe(200);
    expect(await send(1, 'PUT', 'color', 'blue', '?consistency=one')).toBe(200);
    // Each side sees only its own edits.
    expect(JSON.parse((await get(c.daemons[0], 'profile', 'one')).body)).toEqual({ name: 'ada', city: 'Oslo' });
    expect((await get(c.daemons[0], 'color', 'one')).body).toBe('red');

    await isolateFirst('unblock');

    // Reads of a doc return canonical JSON: keys sorted.
    const expected = '{"city":"Oslo","lang":"en","name":"ada lovelace"}';
    let last = '';
    const converged = await eventually(
      async () => {
        const profiles = await Promise.all(c.daemons.map((d) => get(d, 'profile', 'one')));
        const colors = await Promise.all(c.daemons.map((d) => get(d, 'color', 'one')));
        last = JSON.stringify({ profiles, colors });
        return (
          profiles.every((p) => p.status === 200 && p.body === expected) &&
          colors.every((x) => x.status === 200 && x.body === colors[0].body)
        );
      },
      20_000,
      500,
    );
    expect(converged, last).toBe(true);
    // Blob conflicts resolve by HLC last-writer-wins: one of the two sides' values, the same everywhere.
    expect(['red', 'blue']).toContain((await get(c.daemons[2], 'color', 'all')).body);
  });
});

describe('an isolated partition coordinator', () => {
  it('cannot place a key on itself alone: a move needs a majority of the old holders (no split brain)', {
    timeout: 90_000,
  }, async () => {
    // A key whose partition daemon 0 coordinates (its ring primary: the first holder listed).
    let key = '';
    for (let i = 0; i < 200 && key === ''; i++) {
      const r = await fetch(`${c.daemons[0].url}/admin/records/${encodeURIComponent(`iso/${i}`)}`);
      const { placement } = (await r.json()) as { placement: { replicas: string[] } };
      if (placement.replicas[0] === ids[0]) key = `iso/${i}`;
    }
    expect(key).not.toBe('');
    expect(await send(0, 'PUT', key, 'before', '?consistency=all')).toBe(201);
    expect(await isolateFirst('block')).toEqual([200, 200, 200]);
    try {
      const r = await fetch(`${c.daemons[0].url}/admin/records/${encodeURIComponent(key)}/placement`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ replicas: [ids[0]], force: true, reason: 'isolated' }),
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await r.json()) as { code?: string; message?: string; changed?: boolean };
      expect(r.status, JSON.stringify(body)).toBe(503);
      expect(body.code).toBe('MOVE_FAILED');
      expect(body.message).toMatch(/old holders acknowledged/);
      // The majority side keeps serving the key on its ring holders, and accepts a linearizable write.
      expect(await send(1, 'PUT', key, 'majority', '?consistency=linearizable')).toBe(200);
    } finally {
      await isolateFirst('unblock');
    }
    // After the heal no daemon holds an override for the key, and every one reads the majority's write.
    const healed = await eventually(
      async () => {
        const reads = await Promise.all(c.daemons.map((d) => get(d, key, 'linearizable')));
        return reads.every((x) => x.status === 200 && x.body === 'majority');
      },
      20_000,
      500,
    );
    expect(healed).toBe(true);
    const p = await (await fetch(`${c.daemons[0].url}/admin/records/${encodeURIComponent(key)}`)).json();
    expect((p as { placement: { source: string } }).placement.source).toBe('ring');
  });
});
