import { describe, expect, it } from 'vitest';
import {
  blobRecord,
  clientIdFor,
  createHlc,
  DocTypeConflictError,
  decodeDocValue,
  docRecord,
  docToJson,
  encodeHlc,
  maxHlc,
  mergeRecord,
  recommendedTombstoneGraceMs,
  tombstoneCollectable,
  tombstoneRecord,
} from '../../src/crdt/index.ts';
import { checksumOf, type StoredRecord } from '../../src/store/index.ts';

let t = 1_700_000_000_000;
const a = createHlc({ node: 'a', physical: () => t });
const b = createHlc({ node: 'b', physical: () => t });
const ctx = (clock = a) => ({ version: clock.now(), now: t++ });
const json = (r: StoredRecord) => docToJson(decodeDocValue(r.value).state);

describe('merge rules between record kinds', () => {
  it('blobs: the greater version wins, ties broken by node id inside the version', () => {
    const fixed = () => 42;
    const va = createHlc({ node: 'a', physical: fixed }).now();
    const vb = createHlc({ node: 'b', physical: fixed }).now();
    const x = blobRecord(undefined, Uint8Array.of(1), { version: va, now: 1 });
    const y = blobRecord(undefined, Uint8Array.of(2), { version: vb, now: 1 });
    expect(mergeRecord(x, y)).toMatchObject({ record: y, changed: true });
    expect(mergeRecord(y, x)).toMatchObject({ record: y, changed: false });
  });

  it('a delete wins over an older blob and loses to a newer one', () => {
    const blob = blobRecord(undefined, Uint8Array.of(1), ctx());
    const del = tombstoneRecord(blob, ctx(b));
    const later = blobRecord(del, Uint8Array.of(2), ctx());
    expect(mergeRecord(blob, del).record).toBe(del);
    expect(mergeRecord(del, later).record).toBe(later);
  });

  it('a delete wins over a concurrent edit of the old doc, even one with a later version', () => {
    const doc = docRecord(undefined, { kind: 'put', json: { a: 1 } }, ctx());
    const del = tombstoneRecord(doc, ctx(b));
    const staleEdit = docRecord(doc, { kind: 'patch', patch: { b: 2 } }, ctx(a));
    expect(staleEdit.meta.version > del.meta.version).toBe(true);
    expect(mergeRecord(staleEdit, del).record).toBe(del);
    expect(mergeRecord(del, staleEdit).record).toBe(del);
  });

  it('a doc edit made after seeing the delete starts a fresh doc and wins over the tombstone', () => {
    const doc = docRecord(undefined, { kind: 'put', json: { a: 1, keep: true } }, ctx());
    const del = tombstoneRecord(doc, ctx(b));
    const fresh = docRecord(del, { kind: 'patch', patch: { b: 2 } }, ctx(b));
    expect(decodeDocValue(fresh.value).horizon).toBe(del.meta.version);
    expect(json(fresh)).toEqual({ b: 2 });
    expect(mergeRecord(del, fresh).record).toBe(fresh);
    // The pre-delete state never comes back, in any merge order.
    const again = mergeRecord(mergeRecord(doc, fresh).record, del).record;
    expect(json(again)).toEqual({ b: 2 });
  });

  it('concurrent edits of one doc on two replicas both survive, with the greater version', () => {
    const doc = docRecord(undefined, { kind: 'put', json: { title: 'x' } }, ctx());
    const left = docRecord(doc, { kind: 'patch', patch: { title: 'y' } }, ctx(a));
    const right = docRecord(doc, { kind: 'patch', patch: { body: 'z' } }, ctx(b));
    const merged = mergeRecord(left, right).record;
    expect(json(merged)).toEqual({ body: 'z', title: 'y' });
    expect(merged.meta.version).toBe(maxHlc(right.meta.version, left.meta.version));
    expect(merged.meta.checksum).toBe(checksumOf(merged.value));
    expect(merged.meta.size).toBe(merged.value.byteLength);
  });

  it('two docs created on an empty key at once merge their fields', () => {
    const x = docRecord(undefined, { kind: 'put', json: { x: 1 } }, ctx(a));
    const y = docRecord(undefined, { kind: 'patch', patch: { y: 2 } }, ctx(b));
    expect(json(mergeRecord(x, y).record)).toEqual({ x: 1, y: 2 });
  });

  it('type changes: a blob written over a doc wins; a doc PUT over a blob wins; PATCH on a blob is refused', () => {
    const doc = docRecord(undefined, { kind: 'put', json: { a: 1 } }, ctx());
    const blob = blobRecord(doc, Uint8Array.of(9), ctx(b));
    expect(mergeRecord(doc, blob).record).toBe(blob);
    expect(blob.meta.createdAt).toBe(doc.meta.createdAt);
    const doc2 = docRecord(blob, { kind: 'put', json: { c: 3 } }, ctx());
    expect(mergeRecord(blob, doc2).record).toBe(doc2);
    expect(() => docRecord(blob, { kind: 'patch', patch: { c: 4 } }, ctx())).toThrow(DocTypeConflictError);
  });

  it('uses a client id derived from the version: a retried write gives the same bytes', () => {
    const doc = docRecord(undefined, { kind: 'put', json: { a: 1 } }, ctx());
    const c = ctx();
    const once = docRecord(doc, { kind: 'patch', patch: { b: 1 } }, c);
    const retry = docRecord(doc, { kind: 'patch', patch: { b: 1 } }, c);
    expect(Buffer.from(retry.value)).toEqual(Buffer.from(once.value));
    expect(clientIdFor(c.version)).not.toBe(clientIdFor(a.now()));
  });
});

describe('tombstoneCollectable', () => {
  const del = (wall: number) =>
    tombstoneRecord(undefined, { version: encodeHlc({ wall, logical: 0, node: 'n' }), now: wall }).meta;

  it('needs every replica to hold the tombstone and the grace period to have passed', () => {
    const meta = del(1_000);
    expect(tombstoneCollectable(meta, { now: 1_000 + 5_000, graceMs: 5_000, allReplicasAcked: true })).toBe(true);
    expect(tombstoneCollectable(meta, { now: 1_000 + 4_999, graceMs: 5_000, allReplicasAcked: true })).toBe(false);
    expect(tombstoneCollectable(meta, { now: 1_000 + 9_999_999, graceMs: 5_000, allReplicasAcked: false })).toBe(false);
    expect(tombstoneCollectable(meta, { now: 1_000 + 9_999_999, graceMs: 0, allReplicasAcked: true })).toBe(false);
  });

  it('never collects a live record, and measures age from the later of HLC wall and updatedAt', () => {
    const live = blobRecord(undefined, Uint8Array.of(1), {
      version: encodeHlc({ wall: 0, logical: 0, node: 'n' }),
      now: 0,
    });
    expect(tombstoneCollectable(live.meta, { now: 1e12, graceMs: 1, allReplicasAcked: true })).toBe(false);
    const skewed = { ...del(1_000), updatedAt: 3_000 };
    expect(tombstoneCollectable(skewed, { now: 4_000, graceMs: 2_000, allReplicasAcked: true })).toBe(false);
    expect(tombstoneCollectable(skewed, { now: 5_000, graceMs: 2_000, allReplicasAcked: true })).toBe(true);
  });

  it('recommends a grace longer than hints, anti-entropy, migrations and drift together', () => {
    const g = recommendedTombstoneGraceMs({
      hintTtlMs: 3_600_000,
      antiEntropyCycleMs: 600_000,
      migrationGraceMs: 60_000,
    });
    expect(g).toBeGreaterThan(3_600_000 + 600_000 + 60_000 + 60_000);
  });
});
