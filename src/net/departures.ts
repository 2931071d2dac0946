import type { MemberInfo } from './member-codec.ts';

/** Most departures kept (newest first); older ones are forgotten. */
export const MAX_DEPARTURES = 1000;

/** True for the record of a member that left (`leaving`, announced after its hand-off) or was removed. */
export function isDeparture(info: MemberInfo): boolean {
  return info.leaving === true || info.removed === true;
}

/**
 * Members that are gone for good, by their last record: `leaving` (the daemon announced it after it
 * handed off its data, then exited) or `removed` (an operator removed a dead daemon, `shoal remove`,
 * and the removing daemon wrote this record on its behalf). The records travel in every membership
 * exchange and are saved in members.json, so a daemon that was down during the departure learns it
 * too, and a stale copy of the member's record (in a peer's list or an old members.json) cannot bring
 * it back.
 *
 * - A member that left may come back: a record of it newer than its `leaving` one (it was started
 *   again) is accepted and the departure forgotten.
 * - A removed member may not: its data directory holds copies the cluster re-replicated and deletes
 *   whose tombstones may since have been collected, so it would resurrect them. Every record of its
 *   peer id is refused; it rejoins only with a fresh data directory (a new peer id).
 */
export class Departures {
  readonly #records = new Map<string, MemberInfo>();

  /** Records a departure; true when it is new or newer than the one held. */
  note(info: MemberInfo): boolean {
    const held = this.#records.get(info.peerId);
    if (held !== undefined) {
      // Removal is final: a later `leaving` (or an older removal) does not replace it.
      if (held.removed === true && info.removed !== true) return false;
      if (held.removed === info.removed && info.updatedAt <= held.updatedAt) return false;
    }
    this.#records.delete(info.peerId);
    this.#records.set(info.peerId, info);
    if (this.#records.size > MAX_DEPARTURES) {
      const oldest = [...this.#records.values()].sort((a, b) => a.updatedAt - b.updatedAt)[0];
      this.#records.delete(oldest.peerId);
    }
    return true;
  }

  /**
   * Whether a member's (non-departure) record is superseded by a departure: always for a removed
   * member, and for one that left unless the record is newer (it came back; the departure is forgotten).
   */
  blocks(info: MemberInfo): boolean {
    const held = this.#records.get(info.peerId);
    if (held === undefined) return false;
    if (held.removed === true || info.updatedAt <= held.updatedAt) return true;
    this.#records.delete(info.peerId);
    return false;
  }

  /** The departure record of `peerId`, if any. */
  get(peerId: string): MemberInfo | undefined {
    return this.#records.get(peerId);
  }

  /** Every departure record (sent with the member list and saved with it). */
  list(): MemberInfo[] {
    return [...this.#records.values()];
  }
}
