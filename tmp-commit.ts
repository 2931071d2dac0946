import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLevelStore } from './plugins/store-level/index.ts';
import { createLayout } from './src/layout/index.ts';
import { StoreEpochLog } from './src/layout/store-log.ts';
const keys = await Promise.all([0, 1, 2].map(() => generateKeyPair('Ed25519')));
const ids = keys.map((k) => peerIdFromPrivateKey(k).toString());
const store = createLevelStore({ location: join(mkdtempSync(join(tmpdir(), 'cm-')), 'db'), durability: 'os' });
await store.open();
const layout = createLayout({ replicas: 2, log: new StoreEpochLog(store) });
const founding = await layout.propose('cluster', { reason: 'found', membersAdded: ids.map((id, i) => ({ id, zone: `z${i}` })) }, keys[0]);
await layout.append(founding);
const ring = layout.ring();
const mine = Array.from({ length: 4096 }, (_, p) => p).filter((p) => ring.primaryOf(p) === ids[0]).slice(0, 1250);
// keys per partition
const byP = new Map<number, string[]>();
for (let i = 0; byP.size < mine.length || [...byP.values()].some((v) => v.length < 3); i++) {
  const k = `small/${i}`; const p = ring.partitionOf(k);
  if (!mine.includes(p)) continue;
  const l = byP.get(p) ?? []; if (l.length < 3) { l.push(k); byP.set(p, l); }
  if (i > 2_000_000) break;
}
let t = performance.now();
let tSign = 0, tAppend = 0;
for (const p of mine) {
  const a = performance.now();
  const e = await layout.propose(`partition:${p}`, { reason: 'bench wave', wave: 'm-1', overridesSet: byP.get(p)!.map((key) => ({ key, replicas: [ids[0], ids[2]] })) }, keys[0]);
  const b = performance.now();
  await layout.append(e);
  tAppend += performance.now() - b; tSign += b - a;
}
console.log(`${mine.length} epochs: ${(performance.now() - t).toFixed(0)} ms; sign ${(tSign / mine.length * 1000).toFixed(0)} µs, append ${(tAppend / mine.length * 1000).toFixed(0)} µs each`);
// receiver side: fresh layout, verify+append the same epochs
const layout2 = createLayout({ replicas: 2, log: new StoreEpochLog(store) });
await layout2.append(founding);
const epochs = mine.map((p) => layout.chain(`partition:${p}`).get(1)!);
t = performance.now();
await Promise.all(epochs.map((e) => layout2.append(e)));
console.log(`receiver: ${((performance.now() - t) / epochs.length * 1000).toFixed(0)} µs per epoch (concurrent)`);
