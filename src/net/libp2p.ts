import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { type GossipSub, gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { ConnectionGater, ConnectionProtector, Libp2p, PrivateKey } from '@libp2p/interface';
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht';
import { type Ping, ping } from '@libp2p/ping';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { dhtSelectors, dhtValidators } from './dht.ts';

/** The services every shoal libp2p node runs. */
export type ShoalServices = {
  identify: unknown;
  ping: Ping;
  dht: KadDHT;
  pubsub: GossipSub;
};

export type ShoalLibp2p = Libp2p<ShoalServices>;

/** Private kad-dht protocol: shoal never joins (or pollutes) the public IPFS DHT. */
export const DHT_PROTOCOL = '/shoal/kad/1.0.0';

export interface Libp2pAssembly {
  privateKey: PrivateKey;
  listen: string[];
  /** Addresses told to peers instead of the listen addresses (empty: the listen addresses). */
  announce?: string[];
  clusterSecret?: Uint8Array;
  gater: ConnectionGater;
  gossipMaxMessageBytes: number;
}

/** Largest buffer pnet may encrypt in one call; see {@link boundedPreSharedKey}. */
export const PNET_MAX_WRITE_BYTES = 64 * 1024;

/**
 * pnet, with every outbound write cut to {@link PNET_MAX_WRITE_BYTES}. Why: pnet encrypts with the
 * `xsalsa20` WASM module, whose memory (640 KiB initial, 64 MiB max) is shared by every connection
 * of the process. One update bigger than the initial memory grows it, which detaches the views the
 * other cipher instances hold; from then on every update by a stale instance grows the memory
 * again, until `WebAssembly.Memory.grow()` throws inside an event listener and takes the whole
 * process down. pnet hands its whole queued write buffer to one update, so a connection that
 * queued more than ~600 KiB (yamux windows grow to megabytes) was enough. Setting the protected
 * stream's `maxMessageSize` makes libp2p call it with bounded chunks. Inbound data arrives in
 * socket-read chunks (≤ 64 KiB) and is already safe.
 */
function boundedPreSharedKey(psk: Uint8Array): () => ConnectionProtector {
  const factory = preSharedKey({ psk });
  return () => {
    const inner = factory();
    return {
      async protect(connection, options) {
        const out = await inner.protect(connection, options);
        (out as { maxMessageSize?: number }).maxMessageSize = PNET_MAX_WRITE_BYTES;
        return out;
      },
    };
  };
}

/**
 * Builds (but does not start) the libp2p node: tcp + noise + yamux, pnet when a cluster secret is
 * given, identify, ping, kad-dht in server mode on {@link DHT_PROTOCOL} with no bootstrap list, and
 * gossipsub with signed messages.
 */
export async function assembleLibp2p(a: Libp2pAssembly): Promise<ShoalLibp2p> {
  return createLibp2p<ShoalServices>({
    start: false,
    privateKey: a.privateKey,
    addresses: { listen: a.listen, announce: a.announce ?? [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: a.gater,
    ...(a.clusterSecret === undefined ? {} : { connectionProtector: boundedPreSharedKey(a.clusterSecret) }),
    services: {
      identify: identify(),
      // Two pingers share /ipfs/ping per connection: the membership detector and libp2p's connection monitor.
      // With the default limit of one outbound stream, a detector ping still open on a busy peer made the
      // monitor's ping fail ("Too many outbound protocol streams") and abort the connection (and its rpc calls).
      ping: ping({ maxInboundStreams: 4, maxOutboundStreams: 4 }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        // cluster members live on private and loopback addresses: keep them in the routing table
        peerInfoMapper: passthroughMapper,
        validators: dhtValidators,
        selectors: dhtSelectors,
        allowQueryWithZeroPeers: true,
      }),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        maxInboundDataLength: a.gossipMaxMessageBytes + 4096,
      }),
    },
  });
}
