import type { Logger } from 'pino';
import type { BulkTls } from './bulk-tls.ts';
import type { Faults } from './faults.ts';
import type { ShoalLibp2p } from './libp2p.ts';

/** Who sent a request, a bulk stream or a gossip message. */
export interface PeerInfo {
  /** The remote peer id (base58btc string). */
  peerId: string;
  /** The remote daemon's zone when membership knows it, else undefined. */
  zone: string | undefined;
}

/** What the protocol parts of the Net share: the running libp2p node and a few lookups. */
export interface NetCore {
  readonly libp2p: ShoalLibp2p;
  readonly logger: Logger;
  readonly faults: Faults;
  readonly selfZone: string;
  /** The bulk side channel; undefined when disabled (bulk transfers then stay on libp2p streams). */
  readonly bulkTls: BulkTls | undefined;
  zoneOf(peerId: string): string | undefined;
}

export function peerInfo(core: NetCore, peerId: string): PeerInfo {
  return { peerId, zone: core.zoneOf(peerId) };
}
