import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Ed25519PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createLayout,
  EpochRejectedError,
  type Layout,
  MemoryEpochLog,
  openLayout,
  type Scope,
  sequencerOf,
} from '../../src/layout/index.ts';

const Q = 64;
let keys: Ed25519PrivateKey[];
const idOf = (k: Ed25519PrivateKey) => peerIdFromPrivateKey(k).toString();
const zones = ['eu', 'us', 'ap', 'eu'];

beforeAll(async () => {
  keys = await Promise.all(zones.map(() => generateKeyPair('Ed25519')));
});

async function reason(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EpochRejectedError);
  return (err as EpochRejectedError).reason;
}

/** A layout whose founder (keys[0]) founded the cluster and added the others. */
async function founded(log?: MemoryEpochLog): Promise<Layout> {
  const layout = createLayout({ partitions: Q, replicas: 3, log });
  const founder = { id: idOf(keys[0]), zone: zones[0] };
  await layout.append(await layout.propose('cluster', { membersAdded: [founder], reason: 'found' }, keys[0]));
  const others = keys.slice(1).map((k, i) => ({ id: idOf(k), zone: zones[i + 1] }));
  await layout.append(await layout.propose('cluster', { membersAdded: others, reason: 'join' }, keys[0]));
  return layout;
}

const keyOf = (id: string) => keys.find((k) => idOf(k) === id)!;

describe('Layout', () => {
  it('founds a cluster: the founding epoch must add its signer; later cluster epochs need a member', async () => {
    const layout = createLayout({ partitions: Q });
    const stranger = { membersAdded: [{ id: idOf(keys[1]), zone: 'eu' }], reason: 'x' };
    expect(await reason(layout.append(await layout.propose('cluster', stranger, keys[0])))).toBe('unauthorised');
    const l = await founded();
    expect(
      l
        .ring()
        .members.map((m) => m.id)
        .sort(),
    ).toEqual(keys.map(idOf).sort());
    const outsider = await generateKeyPair('Ed25519');
    const join = { membersAdded: [{ id: idOf(outsider), zone: 'eu' }], reason: 'self-join' };
    expect(await reason(l.append(await l.propose('cluster', join, outsider)))).toBe('unauthorised');
    expect(sequencerOf(l.cluster.layout().members.values())).toBe(keys.map(idOf).sort()[0]);
  });

  it('only the partition coordinator (ring primary at basis) signs its partition chain', async () => {
    const layout = await founded();
    const key = 'user:42';
    const p = layout.ring().partitionOf(key);
    const scope: Scope = `partition:${p}`;
    const primary = layout.ring().primaryOf(p)!;
    const other = keys.map(idOf).find((id) => id !== primary)!;
    const change = { overridesSet: [{ key, replicas: [other, primary] }], reason: 'forecast' };
    expect(await reason(layout.append(await layout.propose(scope, change, keyOf(other))))).toBe('unauthorised');
    await layout.append(await layout.propose(scope, change, keyOf(primary)));
    expect(layout.placement(key)).toMatchObject({ partition: p, source: 'override', replicas: [other, primary] });
    expect(layout.placement(key).holders).toEqual([other, primary]);
    expect(layout.placement(key).ringReplicas).toBe(layout.ring().replicasFor(p));
    expect(layout.placement('user:43').source).toBe('ring');
    expect(layout.history(key).map((h) => [h.action, h.reason, h.signer])).toEqual([['set', 'forecast', primary]]);
  });

  it('an override holder that left the cluster is replaced by a ring replica (resolvePlacement)', async () => {
    const layout = await founded();
    const key = 'user:7';
    const p = layout.ring().partitionOf(key);
    const primary = layout.ring().primaryOf(p)!;
    const gone = keys.map(idOf).find((id) => id !== primary && id !== idOf(keys[0]))!;
    const change = { overridesSet: [{ key, replicas: [gone, primary] }], reason: 'move' };
    await layout.append(await layout.propose(`partition:${p}`, change, keyOf(primary)));
    expect(layout.placement(key).holders).toEqual([gone, primary]);
    await layout.append(await layout.propose('cluster', { membersRemoved: [gone], reason: 'left' }, keys[0]));
    const after = layout.placement(key);
    expect(after.source).toBe('override');
    expect(after.holders).toHaveLength(2);
    expect(after.holders[0]).toBe(primary);
    expect(layout.ring().replicasFor(p)).toContain(after.holders[1]);
  });

  it('rejects partition epochs with keys of another partition, members, or no basis', async () => {
    const layout = await founded();
    const p = layout.ring().partitionOf('a');
    const scope: Scope = `partition:${p}`;
    const signer = keyOf(layout.ring().primaryOf(p)!);
    const foreign = [...Array(200).keys()].map((i) => `k${i}`).find((k) => layout.ring().partitionOf(k) !== p)!;
    const bad = [
      { overridesSet: [{ key: foreign, replicas: ['x'] }], reason: 'wrong partition' },
      { membersRemoved: [idOf(keys[1])], reason: 'members here' },
    ];
    for (const change of bad)
      expect(await reason(layout.append(await layout.propose(scope, change, signer)))).toBe('malformed');
    const noBasis = await layout.chain(scope).propose({ overridesRemoved: ['a'], reason: 'x' }, signer);
    expect(await reason(layout.append(noBasis))).toBe('malformed');
    const future = await layout.propose(scope, { overridesRemoved: ['a'], reason: 'x' }, signer, { basis: 99 });
    expect(await reason(layout.append(future))).toBe('malformed');
    const outOfRange = { ...future, scope: `partition:${Q}` as Scope };
    expect(await reason(layout.append(outOfRange))).toBe('malformed');
    expect(await reason(layout.append({ ...future, scope: 'nonsense' as Scope }))).toBe('malformed');
  });

  it('checkpoints partition heads and reloads everything from the log, then rolls a partition back', async () => {
    const log = new MemoryEpochLog();
    const layout = await founded(log);
    const moved: string[] = [];
    for (let i = 0; moved.length < 5; i++) {
      const key = `doc:${i}`;
      const p = layout.ring().partitionOf(key);
      const signer = keyOf(layout.ring().primaryOf(p)!);
      const replicas = [...layout.ring().replicasFor(p)].reverse();
      await layout.append(
        await layout.propose(`partition:${p}`, { overridesSet: [{ key, replicas }], reason: 'move' }, signer),
      );
      moved.push(key);
    }
    await layout.append(await layout.checkpoint(keys[0]));
    expect(layout.cluster.layout().checkpoint).toEqual(layout.heads().slice(1));

    const reopened = await openLayout({ partitions: Q, replicas: 3, log });
    expect(reopened.heads()).toEqual(layout.heads());
    for (const key of moved) expect(reopened.placement(key)).toEqual(layout.placement(key));

    const p = reopened.ring().partitionOf(moved[0]);
    const scope: Scope = `partition:${p}`;
    const signer = keyOf(reopened.ring().primaryOf(p)!);
    await reopened.append(await reopened.rollback(scope, 0, signer, { reason: 'undo' }));
    expect(reopened.placement(moved[0]).source).toBe('ring');
    expect(reopened.history(moved[0]).map((h) => [h.action, h.restoreOf])).toEqual([
      ['set', undefined],
      ['removed', 0],
    ]);
    const again = await openLayout({ partitions: Q, replicas: 3, log });
    expect(again.heads()).toEqual(reopened.heads());
  });

  it('rejects a checkpoint that disagrees with the partition chains held locally', async () => {
    const layout = await founded();
    const p = layout.ring().partitionOf('x');
    await layout.append(
      await layout.propose(
        `partition:${p}`,
        { overridesRemoved: ['x'], reason: 'noop' },
        keyOf(layout.ring().primaryOf(p)!),
      ),
    );
    const lie = { checkpoint: [{ scope: `partition:${p}` as Scope, number: 1, hash: 'a'.repeat(64) }], reason: 'cp' };
    expect(await reason(layout.append(await layout.propose('cluster', lie, keys[0])))).toBe('malformed');
  });
});
