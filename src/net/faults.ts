import type { ConnectionGater, PeerId } from '@libp2p/interface';
import { sleep } from './call.ts';
import { FaultsDisabledError } from './errors.ts';

/** Emulated one-way latency in ms from a daemon in `fromZone` to one in `toZone`. */
export type LatencyFn = (fromZone: string, toZone: string) => number;

/**
 * Fault injection for tests and benchmarks (off unless enabled): an in-app partition (blocked peers
 * are refused by the connection gater and their connections are closed) and an emulated per-zone
 * latency applied to request() (once each way) and to bulk acknowledgements (one round trip).
 */
export class Faults {
  readonly enabled: boolean;
  readonly #blocked = new Set<string>();
  #latency: LatencyFn | undefined;

  constructor(enabled: boolean, latency?: LatencyFn) {
    this.enabled = enabled;
    this.#latency = enabled ? latency : undefined;
  }

  /** The gater libp2p consults on every dial and every inbound connection. */
  gater(): ConnectionGater {
    const denied = (peer: PeerId): boolean => this.#blocked.has(peer.toString());
    return {
      denyDialPeer: denied,
      denyInboundEncryptedConnection: denied,
      denyOutboundEncryptedConnection: denied,
    };
  }

  isBlocked(peerId: string): boolean {
    return this.#blocked.has(peerId);
  }

  block(peerId: string): void {
    this.#require();
    this.#blocked.add(peerId);
  }

  unblock(peerId: string): void {
    this.#require();
    this.#blocked.delete(peerId);
  }

  setLatency(fn: LatencyFn | undefined): void {
    this.#require();
    this.#latency = fn;
  }

  latencyMs(fromZone: string, toZone: string): number {
    return this.#latency === undefined ? 0 : Math.max(0, this.#latency(fromZone, toZone));
  }

  /** Waits the emulated one-way latency (no-op when none is set). */
  delay(fromZone: string, toZone: string, signal?: AbortSignal): Promise<void> {
    return sleep(this.latencyMs(fromZone, toZone), signal);
  }

  #require(): void {
    if (!this.enabled) throw new FaultsDisabledError();
  }
}
