import { type Epoch, type EpochChain, hashEpoch, type Scope } from '../layout/index.ts';

/**
 * Two partition chains that hold different epochs under the same number have forked: two daemons each
 * signed an epoch believing they coordinated the partition (a coordinator that had not yet seen a newer
 * cluster epoch), or one signer signed twice (equivocation). Every daemon resolves a fork the same way,
 * by {@link prefersTheirs} on the first epochs that differ, so all of them end on one branch:
 *
 * 1. the epoch with the higher `basis` wins: it was signed under a newer cluster layout, so its signer is
 *    the coordinator of the later membership (the stale coordinator's epoch loses);
 * 2. on equal basis, the lower hash wins (arbitrary but the same everywhere).
 *
 * The losing branch's placements are not lost data: a record written to holders that the winning branch
 * does not name is handed to its holders by the hand-off pass (CRDT merge), like after any placement change.
 * Every fork is kept as evidence ({@link ForkRecord}), an equivocation flagged.
 */
export interface ForkRecord {
  readonly scope: Scope;
  /** First epoch number where the branches differ. */
  readonly number: number;
  readonly kept: { readonly hash: string; readonly signer: string; readonly basis?: number };
  readonly dropped: { readonly hash: string; readonly signer: string; readonly basis?: number };
  /** The same key signed both: a signer that equivocates. */
  readonly equivocation: boolean;
  /** Peer that held the other branch. */
  readonly peer: string;
  readonly at: number;
}

/** First number at which `theirs` (a whole chain, from 1) and `mine` hold different epochs, if any. */
export function forkPoint(mine: EpochChain, theirs: readonly Epoch[]): number | undefined {
  const common = Math.min(mine.head.number, theirs.length);
  for (let n = 1; n <= common; n++) if (mine.hashAt(n) !== hashEpoch(theirs[n - 1])) return n;
  return undefined;
}

/** Whether their epoch wins over mine at a fork (see the module comment for the rule). */
export function prefersTheirs(mine: Epoch, theirs: Epoch): boolean {
  const a = theirs.basis ?? 0;
  const b = mine.basis ?? 0;
  if (a !== b) return a > b;
  return hashEpoch(theirs) < hashEpoch(mine);
}

/** The evidence of a fork resolved at `number`. */
export function forkRecord(scope: Scope, mine: Epoch, theirs: Epoch, peer: string, now = Date.now()): ForkRecord {
  const side = (e: Epoch) => ({ hash: hashEpoch(e), signer: e.signer, basis: e.basis });
  const [kept, dropped] = prefersTheirs(mine, theirs) ? [theirs, mine] : [mine, theirs];
  return {
    scope,
    number: mine.number,
    kept: side(kept),
    dropped: side(dropped),
    equivocation: mine.signer === theirs.signer,
    peer,
    at: now,
  };
}
