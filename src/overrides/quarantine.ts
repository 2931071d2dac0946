import type { ForkRecord } from './forks.ts';

/** A signer this daemon holds proof against: two different epochs it signed with the same number. */
export interface QuarantineEntry {
  readonly signer: string;
  /** The chain and number where it signed twice. */
  readonly scope: string;
  readonly number: number;
  /** Hashes of the two epochs (both verified signatures of `signer`). */
  readonly hashes: readonly [string, string];
  /** When this daemon found it (ms). */
  readonly since: number;
}

/**
 * Signers quarantined for equivocation. A key that signed two epochs with the same number on one chain
 * is either stolen or its daemon lost the state that keeps it from signing twice; either way no later
 * epoch or move announcement it signs is taken here until an operator clears it
 * (`DELETE /admin/layout/quarantine/:peerId`, after replacing the key or the daemon). The fork itself is
 * still resolved by the rule of forks.ts, so every daemon ends on the same branch. Kept in memory: a
 * restarted daemon quarantines the signer again when it meets the forked chains again.
 */
export class Quarantine {
  readonly #entries = new Map<string, QuarantineEntry>();

  /** Quarantines the signer of an equivocation; true when it was not quarantined yet. */
  add(fork: ForkRecord, now = Date.now()): boolean {
    if (!fork.equivocation || this.#entries.has(fork.kept.signer)) return false;
    this.#entries.set(fork.kept.signer, {
      signer: fork.kept.signer,
      scope: fork.scope,
      number: fork.number,
      hashes: [fork.kept.hash, fork.dropped.hash],
      since: now,
    });
    return true;
  }

  has(signer: string): boolean {
    return this.#entries.has(signer);
  }

  /** Why `signer` is refused, or undefined when it is not quarantined. */
  reasonFor(signer: string): string | undefined {
    const e = this.#entries.get(signer);
    return e && `signer ${signer} is quarantined: it signed two different epochs ${e.number} of ${e.scope}`;
  }

  list(): QuarantineEntry[] {
    return [...this.#entries.values()];
  }

  /** Lifts the quarantine of `signer`; false when it was not quarantined. */
  clear(signer: string): boolean {
    return this.#entries.delete(signer);
  }
}
