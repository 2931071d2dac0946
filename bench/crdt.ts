/**
 * npm run bench:crdt — merges per second for blob and doc records against applying the same writes
 * without merging (a plain overwrite into a Map), in the same run. 10k records, small edits.
 * Writes bench/results/crdt.json and prints the ratios.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyYjsUpdate,
  blobRecord,
  createHlc,
  decodeDocValue,
  docDelta,
  docRecord,
  mergeRecord,
  type WriteContext,
} from '../src/crdt/index.ts';
import type { StoredRecord } from '../src/store/index.ts';

const RECORDS = 10_000;
let t = 1_700_000_000_000;
const local = createHlc({ node: 'local', physical: () => t });
const remote = createHlc({ node: 'remote', physical: () => t });
const ctx = (clock = local): WriteContext => ({ version: clock.now(), now: t });
const keys = Array.from({ length: RECORDS }, (_, i) => `key-${i}`);

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Runs `apply(local, incoming)` over every pair, best of 3 rounds; returns ops/s. */
function measure(
  base: StoredRecord[],
  incoming: StoredRecord[],
  apply: (l: StoredRecord, i: StoredRecord) => StoredRecord,
): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const store = new Map<string, StoredRecord>();
    for (let i = 0; i < RECORDS; i++) store.set(keys[i], base[i]);
    const secs = time(() => {
      for (let i = 0; i < RECORDS; i++) store.set(keys[i], apply(store.get(keys[i])!, incoming[i]));
    });
    best = Math.min(best, secs);
  }
  return RECORDS / best;
}

const overwrite = (_l: StoredRecord, i: StoredRecord) => i;
const merge = (l: StoredRecord, i: StoredRecord) => mergeRecord(l, i).record;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Blobs: 10k records of 256 bytes, each overwritten by a newer 256-byte write from another replica.
const blobBase = keys.map((_, i) => blobRecord(undefined, new Uint8Array(256).fill(i & 0xff), ctx()));
t += 1;
const blobNew = keys.map((_, i) => blobRecord(blobBase[i], new Uint8Array(256).fill((i + 1) & 0xff), ctx(remote)));
const blobPlain = measure(blobBase, blobNew, overwrite);
const blobMerge = measure(blobBase, blobNew, merge);

// Docs: 10k docs of 8 fields with one nested map; the local replica edits one field, the remote
// replica concurrently edits another field of the same doc (so every merge is a real union).
const docBase = keys.map((_, i) =>
  docRecord(
    undefined,
    { kind: 'put', json: { title: `doc ${i}`, n: i, tags: ['a', 'b'], owner: 'u1', meta: { views: 0, lang: 'en' } } },
    ctx(),
  ),
);
t += 1;
const docLocal = docBase.map((r, i) => docRecord(r, { kind: 'patch', patch: { n: i + 1 } }, ctx()));
const docRemote = docBase.map((r) => docRecord(r, { kind: 'patch', patch: { meta: { views: 1 } } }, ctx(remote)));
const docPlain = measure(docLocal, docRemote, overwrite);
const docMerge = measure(docLocal, docRemote, merge);
// Reference for docs: apply the remote edit's Yjs delta to the local state, no record merge around it.
const docDeltas = docRemote.map((r, i) =>
  docDelta(decodeDocValue(r.value).state, decodeDocValue(docBase[i].value).state),
);
let applyBest = Number.POSITIVE_INFINITY;
for (let round = 0; round < 3; round++) {
  const states = docLocal.map((r) => decodeDocValue(r.value).state);
  const secs = time(() => {
    for (let i = 0; i < RECORDS; i++) states[i] = applyYjsUpdate(states[i], docDeltas[i]);
  });
  applyBest = Math.min(applyBest, secs);
}
const docApplyDelta = RECORDS / applyBest;
// Anti-entropy / repair of an already-converged copy (the common case): merge of equal records.
const docSame = measure(
  docLocal,
  docLocal.map((r) => ({ value: r.value.slice(), meta: { ...r.meta } })),
  merge,
);

const stateBytes = median(docRemote.map((r) => decodeDocValue(r.value).state.byteLength));
const valueBytes = median(docRemote.map((r) => r.value.byteLength));
const deltaBytes = median(docDeltas.map((d) => d.byteLength));
const patchBytes = Buffer.byteLength(JSON.stringify({ meta: { views: 1 } }));
const mergedBytes = median(docLocal.slice(0, 1000).map((r, i) => merge(r, docRemote[i]).value.byteLength));

const result = {
  records: RECORDS,
  node: process.version,
  blob: {
    valueBytes: 256,
    overwritePerSec: Math.round(blobPlain),
    mergePerSec: Math.round(blobMerge),
    ratio: +(blobMerge / blobPlain).toFixed(4),
  },
  doc: {
    overwritePerSec: Math.round(docPlain),
    mergePerSec: Math.round(docMerge),
    ratio: +(docMerge / docPlain).toFixed(6),
    mergeEqualPerSec: Math.round(docSame),
    applyYjsDeltaPerSec: Math.round(docApplyDelta),
    ratioToApplyDelta: +(docMerge / docApplyDelta).toFixed(4),
    sizes: {
      jsonPatchBytes: patchBytes,
      yjsDeltaBytes: deltaBytes,
      fullStateBytes: stateBytes,
      storedValueBytes: valueBytes,
      mergedValueBytes: mergedBytes,
    },
  },
};

const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'crdt.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
console.log(
  `blob: merge ${result.blob.mergePerSec}/s vs overwrite ${result.blob.overwritePerSec}/s (ratio ${result.blob.ratio}); ` +
    `doc: merge ${result.doc.mergePerSec}/s vs overwrite ${result.doc.overwritePerSec}/s (ratio ${result.doc.ratio})`,
);
