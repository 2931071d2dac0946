import { decode, encode } from '@msgpack/msgpack';
import { internalEntry, KEYSPACE, prefixKey, type Store } from '../store/index.ts';
import type { MigrationOrigin } from './migrations.ts';
import type { MovePlan, MoveStepKind } from './plan.ts';

/**
 * What a coordinator persists of a wave before each of its steps, so that a SIGKILL at any step
 * boundary resumes or undoes the wave on restart (wave.ts `recover`): the moves, the step about to run,
 * and the id the wave's partition epochs carry (`change.wave`), which tells after a crash which of its
 * partitions had committed.
 */
export interface WaveRecord {
  readonly id: string;
  readonly origin: MigrationOrigin;
  readonly startedAt: number;
  readonly step: MoveStepKind;
  readonly moves: readonly MovePlan[];
  /** Moves that failed before their epoch, key → why (they are cancelled, never committed). */
  readonly failed: Readonly<Record<string, string>>;
  readonly gains?: Readonly<Record<string, number>>;
}

const enc = new TextEncoder();
const PREFIX = enc.encode('wave\u0000');

const keyOf = (id: string) => prefixKey(KEYSPACE.meta, new Uint8Array([...PREFIX, ...enc.encode(id)]));

/** The waves a coordinator has not finished, in its store's meta keyspace (one entry per wave). */
export class WaveLog {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Records the wave and the step it is about to run (durably, like every store write). */
  async save(record: WaveRecord, signal?: AbortSignal): Promise<void> {
    await this.#store.put(keyOf(record.id), internalEntry(encode(record), 'application/msgpack'), { signal });
  }

  /** Forgets a finished wave. */
  async remove(id: string): Promise<void> {
    await this.#store.delete(keyOf(id));
  }

  /** Every unfinished wave. */
  async load(signal?: AbortSignal): Promise<WaveRecord[]> {
    const out: WaveRecord[] = [];
    let after: Uint8Array | undefined;
    const prefix = prefixKey(KEYSPACE.meta, PREFIX);
    for (;;) {
      const page = await this.#store.scan({ prefix, after, limit: 100, signal });
      for (const e of page.entries) out.push(decode(e.record.value) as WaveRecord);
      if (!page.cursor) return out;
      after = page.cursor;
    }
  }
}
