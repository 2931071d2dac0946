import type { Net } from '../net/index.ts';
import { NetTimeoutError, PeerUnreachableError, ProtocolError } from '../net/index.ts';
import { checksumOf, type StoredRecord } from '../store/index.ts';
import type { LocalEngine } from './local-engine.ts';
import { NO_OBSERVER, type ReplicationObserver } from './observer.ts';
import {
  decodeMessage,
  encodeMessage,
  fromWire,
  REPLICA_PROTOCOL,
  type ReplicaRequest,
  type ReplicaResponse,
  toWire,
} from './wire.ts';

export interface ReplicaClientOptions {
  /** Deadline of one replica call (ms). */
  timeoutMs: number;
  /** Told how each remote call ended. */
  observer?: ReplicationObserver;
}

/** Refuses a record whose bytes do not match its checksum (corruption in transit or at rest). */
export function verifyRecord(key: string, record: StoredRecord, from: string): StoredRecord {
  if (checksumOf(record.value) !== record.meta.checksum || record.value.byteLength !== record.meta.size) {
    throw new ProtocolError(`record ${JSON.stringify(key)} from ${from} fails its checksum`);
  }
  return record;
}

/**
 * Calls one replica: this daemon's own store directly, any other over the replica protocol.
 * Every call has a deadline and honours the caller's signal.
 */
export class ReplicaClient {
  readonly #net: Net;
  readonly #local: LocalEngine;
  readonly #timeoutMs: number;
  readonly #observer: ReplicationObserver;

  constructor(net: Net, local: LocalEngine, options: ReplicaClientOptions) {
    this.#net = net;
    this.#local = local;
    this.#timeoutMs = options.timeoutMs;
    this.#observer = options.observer ?? NO_OBSERVER;
  }

  get self(): string {
    return this.#net.peerId;
  }

  async call<T extends ReplicaResponse>(
    peer: string,
    req: ReplicaRequest,
    signal?: AbortSignal,
    timeoutMs = this.#timeoutMs,
  ): Promise<T> {
    try {
      const res = await this.#net.request(peer, REPLICA_PROTOCOL, encodeMessage(req), { signal, timeoutMs });
      const msg = decodeMessage<T>(res, peer);
      if (msg.t !== req.t) throw new ProtocolError(`replica ${peer} answered ${msg.t} to ${req.t}`);
      this.#observer.replicaCall('ok');
      return msg;
    } catch (err) {
      this.#observer.replicaCall(
        err instanceof NetTimeoutError ? 'timeout' : err instanceof PeerUnreachableError ? 'unreachable' : 'error',
      );
      throw err;
    }
  }

  async get(peer: string, key: string, signal?: AbortSignal): Promise<StoredRecord | undefined> {
    if (peer === this.self) return this.#local.getRaw(key, { signal });
    const res = await this.call<Extract<ReplicaResponse, { t: 'get' }>>(peer, { t: 'get', k: key }, signal);
    return res.r ? verifyRecord(key, fromWire(res.r), peer) : undefined;
  }

  /** Stores (merges) `record` at `peer`: the version it holds afterwards, and whether it held a live copy before. */
  async put(
    peer: string,
    key: string,
    record: StoredRecord,
    signal?: AbortSignal,
  ): Promise<{ version: string; existed: boolean }> {
    if (peer === this.self) {
      const res = await this.#local.applyRecord(key, record, { signal });
      return { version: res.record.meta.version, existed: res.existed };
    }
    const res = await this.call<Extract<ReplicaResponse, { t: 'put' }>>(
      peer,
      { t: 'put', k: key, r: toWire(record) },
      signal,
    );
    return { version: res.v, existed: res.e === true };
  }
}
