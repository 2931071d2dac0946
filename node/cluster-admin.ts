import type { ClusterAdmin } from '../src/api/cluster-routes.ts';
import type { FaultAdmin } from '../src/api/fault-routes.ts';
import { ShoalError } from '../src/errors/index.ts';
import { type Member, type Net, resolveMemberId } from '../src/net/index.ts';
import type { ForkRecord, LayoutKeeper, QuarantineEntry, WaveFaults } from '../src/overrides/index.ts';
import type { Replication } from '../src/replication/index.ts';
import type { RingSummary } from '../src/ring/index.ts';
import type { StoreFaults } from '../src/store/faulty.ts';

/** The cluster admin operations over the daemon's net and replication (either may still be starting). */
export function clusterAdmin(
  net: () => Net | undefined,
  replication: () => Replication | undefined,
  keeper: () => LayoutKeeper | undefined,
  leave: () => void,
  forks: () => readonly ForkRecord[] = () => [],
  quarantined: () => readonly QuarantineEntry[] = () => [],
): ClusterAdmin {
  const need = <T>(x: T | undefined): T => {
    if (x === undefined) throw new ShoalError('NOT_READY', 'the daemon is starting or stopping');
    return x;
  };
  return {
    peers: () => need(net()).members().map(namedMember),
    ring: () => ringView(need(replication()).ring.ring.summary(), need(net()).members()),
    join: async (multiaddr, signal) => {
      const member = await need(net()).join(multiaddr, { signal });
      replication()?.maintenance.kick();
      return namedMember(member);
    },
    leave,
    remove: async (text, force) => {
      const n = need(net());
      const members = n.members();
      const id = resolveMemberId(
        members.map((m) => m.peerId),
        text,
      );
      const m = members.find((x) => x.peerId === id)!;
      if (m.self)
        throw new ShoalError(
          'REMOVE_SELF',
          `${id} is this daemon: ask another member to remove it, or use shoal leave`,
        );
      if (m.status !== 'down' && !force)
        throw new ShoalError(
          'MEMBER_UP',
          `member ${id} is ${m.status}: a running daemon should shoal leave; remove it once it is down (10 s silent), or pass force (shoal remove --force)`,
        );
      const before = await n.remove(id);
      replication()?.maintenance.kick();
      return { removed: id, zone: before.zone, state: before.status, status: before.status };
    },
    inspect: (key, signal) => need(replication()).engine.inspect(key, { signal }),
    layout: () => {
      const k = need(keeper());
      // forks: partition chains that forked and how each was resolved (src/overrides/forks.ts);
      // quarantined: signers caught signing two epochs with one number (src/overrides/quarantine.ts)
      return { head: k.layout.cluster.head, epochs: k.recent(), forks: forks(), quarantined: quarantined() };
    },
  };
}

/**
 * A member as `/admin/peers` shows it: `state` is its health (up, suspect, down), the name `/admin/ring` and
 * the `shoal_cluster_members{state}` metric use; `status` is the same value under its older name, kept for
 * scripts written against it.
 */
export function namedMember<M extends { status: string }>(m: M): M & { state: string } {
  return { ...m, state: m.status };
}

/**
 * The ring as `/admin/ring` shows it, named as `/admin/peers` names members: each with its `peerId` (`id` is
 * kept, the older name) and `state`: its health as in `/admin/peers` (up, suspect, down), or `leaving` while
 * it hands its partitions off.
 */
export function ringView(summary: RingSummary, members: readonly Member[]) {
  const health = new Map(members.map((m) => [m.peerId, m.status]));
  return {
    ...summary,
    members: summary.members.map((m) => ({
      peerId: m.id,
      ...m,
      state: m.state === 'leaving' ? ('leaving' as const) : (health.get(m.id) ?? m.state),
    })),
  };
}

/** What `/admin/ring` answers (see {@link ringView}). */
export type RingView = ReturnType<typeof ringView>;

/** Fault injection over the daemon's net (refused by the net unless started with faults enabled). */
export function faultAdmin(
  net: () => Net | undefined,
  wave: WaveFaults,
  injected: { store: StoreFaults; clock: { offsetMs: number } },
): FaultAdmin {
  const need = (): Net => {
    const n = net();
    if (!n) throw new ShoalError('NOT_READY', 'the daemon is starting or stopping');
    return n;
  };
  return {
    block: async (peerIds) => {
      for (const p of peerIds) await need().blockPeer(p);
    },
    unblock: (peerIds) => {
      for (const p of peerIds) need().unblockPeer(p);
    },
    setLatency: (matrix) =>
      need().setLatency(Object.keys(matrix).length === 0 ? undefined : (from, to) => matrix[from]?.[to] ?? 0),
    setWaveFaults: (f) => {
      wave.crashBefore = f.crashBefore;
      wave.pauseBefore = f.pauseBefore;
      wave.pauseMs = f.pauseMs;
    },
    waveFaults: () => ({ ...wave }),
    setStoreFaults: (f) => Object.assign(injected.store, f),
    storeFaults: () => ({ ...injected.store }),
    setClockSkew: (offsetMs) => {
      injected.clock.offsetMs = offsetMs;
    },
    clockSkew: () => injected.clock.offsetMs,
  };
}
