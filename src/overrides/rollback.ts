/**
 * Rollback of placements, as pure decisions: which records go where to restore an earlier layout.
 * Rollback never rewrites history: it is a new wave (origin `rollback`) whose partition epochs restore
 * the earlier overrides, and the mover moves the data back like any other wave.
 *
 * - `{ toTime }`: every record's placement as it was at that time: for each partition chain, the state
 *   after its last epoch signed at or before `toTime` (no epoch yet: no overrides, every record on the
 *   ring).
 * - `{ wave }`: undo one wave: every record one of the wave's epochs changed goes back to its placement
 *   just before that epoch.
 *
 * @packageDocumentation
 */
import type { EpochChain, Layout, Scope } from '../layout/index.ts';

/** What to restore. */
export type RollbackTarget = { readonly toTime: number } | { readonly wave: string };

/** One record to restore: its earlier holders, or null for its ring placement. */
export interface RestoreMove {
  readonly key: string;
  readonly partition: number;
  readonly target: readonly string[] | null;
}

const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));

/** The number of the last epoch of `chain` signed at or before `t` (0 when none). */
function numberAt(chain: EpochChain, t: number): number {
  let n = 0;
  for (const e of chain.epochs()) {
    if (e.ts > t) break;
    n = e.number;
  }
  return n;
}

/**
 * The records of the partitions `coordinates` accepts whose placement differs from the target's, and
 * where each goes. `found` is false for a wave none of whose epochs is held here.
 */
export function planRollback(
  layout: Layout,
  coordinates: (partition: number) => boolean,
  target: RollbackTarget,
): { moves: RestoreMove[]; found: boolean } {
  const moves: RestoreMove[] = [];
  let found = false;
  for (const head of layout.heads()) {
    if (head.scope === 'cluster') continue;
    const partition = Number(head.scope.slice('partition:'.length));
    const chain = layout.chain(head.scope as Scope);
    if ('wave' in target) {
      const restored = new Map<string, readonly string[] | null>();
      for (const e of chain.epochs()) {
        if (e.change.wave !== target.wave) continue;
        found = true;
        const before = chain.layoutAt(e.number - 1).overrides;
        const keys = [...(e.change.overridesSet ?? []).map((o) => o.key), ...(e.change.overridesRemoved ?? [])];
        // The first epoch of the wave that touched a key holds its placement before the wave.
        for (const key of keys) if (!restored.has(key)) restored.set(key, before.get(key)?.replicas ?? null);
      }
      if (!coordinates(partition)) continue;
      const now = chain.layout().overrides;
      for (const [key, to] of restored) {
        if (!same(now.get(key)?.replicas, to ?? undefined)) moves.push({ key, partition, target: to });
      }
      continue;
    }
    found = true;
    if (!coordinates(partition)) continue;
    const then = chain.layoutAt(numberAt(chain, target.toTime)).overrides;
    const now = chain.layout().overrides;
    for (const key of new Set([...then.keys(), ...now.keys()])) {
      const to = then.get(key)?.replicas;
      if (!same(now.get(key)?.replicas, to)) moves.push({ key, partition, target: to ?? null });
    }
  }
  return { moves, found: found || 'toTime' in target };
}
