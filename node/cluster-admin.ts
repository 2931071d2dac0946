import type { ClusterAdmin } from '../src/api/cluster-routes.ts';
import type { FaultAdmin } from '../src/api/fault-routes.ts';
import { ShoalError } from '../src/errors/index.ts';
import { type Net, resolveMemberId } from '../src/net/index.ts';
import type { ForkRecord, LayoutKeeper, QuarantineEntry, WaveFaults } from '../src/overrides/index.ts';
import type { Replication } from '../src/replication/index.ts';

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
    peers: () => need(net()).members(),
    ring: () => need(replication()).ring.ring.summary(),
    join: async (multiaddr, signal) => {
      const member = await need(net()).join(multiaddr, { signal });
      replication()?.maintenance.kick();
      return member;
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
          `member ${id} is ${m.status}: a running daemon should shoal leave; remove it once it is down (10 s silent), or pass force`,
        );
      const before = await n.remove(id);
      replication()?.maintenance.kick();
      return { removed: id, zone: before.zone, status: before.status };
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

/** Fault injection over the daemon's net (refused by the net unless started with faults enabled). */
export function faultAdmin(net: () => Net | undefined, wave: WaveFaults): FaultAdmin {
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
  };
}
