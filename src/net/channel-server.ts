import { ShoalError } from '../errors/index.ts';
import { Assembly, type ChannelFrame, encodeError, Kind, parseRequestHead } from './channel-codec.ts';
import { readChannel } from './channel-reader.ts';
import { ChannelWriter } from './channel-writer.ts';
import { type NetCore, type PeerInfo, peerInfo } from './core.ts';
import { MessageTooLargeError, NetAbortedError, NetTimeoutError, ProtocolError } from './errors.ts';
import type { FrameChannel } from './frame-channel.ts';

/** Answers one request; throw a ShoalError to send its code and message back to the caller. */
export type RequestHandler = (req: Uint8Array, from: PeerInfo, opts: { signal: AbortSignal }) => Promise<Uint8Array>;

/** A served protocol and its limits. */
export interface HandlerEntry {
  handler: RequestHandler;
  maxFrameBytes: number;
  handlerTimeoutMs: number;
  /** Concurrent requests of this protocol per channel; more are refused (the caller sees PeerUnreachableError). */
  maxConcurrent: number;
}

/** Requests running or arriving at once on one channel before new ones are refused as busy. */
export const SERVER_MAX_CONCURRENT = 512;
/** Open ids (running, arriving, or being discarded) past which the caller is misbehaving: the channel closes. */
const SERVER_MAX_OPEN_IDS = 2 * SERVER_MAX_CONCURRENT;

interface Incoming {
  /** undefined while the request is discarded (refused, waiting for its last fragment). */
  entry: HandlerEntry | undefined;
  protocol: string;
  assembly: Assembly | undefined;
}

/**
 * The serving side of one multiplexed RPC channel (one inbound transport from a peer). Reassembles
 * requests, runs handlers concurrently and queues each answer as soon as it is ready, so answers go
 * out of order. A handler's signal fires on its deadline, on a CANCEL from the caller, and when the
 * channel closes. A malformed frame closes this channel only (logged); other channels and the
 * daemon are unaffected.
 */
export class ServerChannel {
  readonly #core: NetCore;
  readonly #from: string;
  readonly #transport: FrameChannel;
  readonly #lookup: (protocol: string) => HandlerEntry | undefined;
  readonly #writer: ChannelWriter;
  readonly #incoming = new Map<number, Incoming>();
  readonly #running = new Map<number, AbortController>();
  readonly #perProtocol = new Map<string, number>();
  readonly #closed = new AbortController();
  #whenIdle: (() => void) | undefined;

  constructor(
    core: NetCore,
    transport: FrameChannel,
    from: string,
    lookup: (protocol: string) => HandlerEntry | undefined,
  ) {
    this.#core = core;
    this.#transport = transport;
    this.#from = from;
    this.#lookup = lookup;
    this.#writer = new ChannelWriter(transport, (err) => this.close(err));
    transport.onClose((err) => this.close(err ?? new Error('channel closed')));
  }

  /** Serves until the transport ends or a malformed frame arrives. Never rejects. */
  async serve(): Promise<void> {
    try {
      await readChannel(this.#transport, (frame) => this.#onFrame(frame));
      // the caller half-closed: finish running requests, send their answers, then close our side
      await this.#idle();
      await this.#writer.idle();
      if (this.#transport.isOpen) await this.#transport.close().catch(() => undefined);
      this.close(new Error('the caller closed the channel'));
    } catch (err) {
      this.close(err);
    }
  }

  close(reason: unknown): void {
    if (this.#closed.signal.aborted) return;
    const message = reason instanceof Error ? reason.message : String(reason);
    if (reason instanceof ProtocolError) {
      this.#core.logger.warn({ from: this.#from, reason: message }, 'closing rpc channel: peer sent a malformed frame');
    } else {
      this.#core.logger.debug({ from: this.#from, reason: message }, 'rpc channel closed');
    }
    const gone = new NetAbortedError(`caller ${this.#from} went away`);
    this.#closed.abort(gone);
    for (const running of this.#running.values()) running.abort(gone);
    this.#writer.close();
    this.#transport.abort(reason instanceof Error ? reason : new Error(message)); // a no-op once it closed
    this.#incoming.clear();
  }

  #onFrame(f: ChannelFrame): void {
    if (f.kind === Kind.CANCEL) {
      const arriving = this.#incoming.get(f.id);
      this.#incoming.delete(f.id);
      if (arriving?.entry !== undefined) this.#release(arriving.protocol);
      this.#running.get(f.id)?.abort(new NetAbortedError(`caller ${this.#from} went away`));
      return;
    }
    if (f.kind !== Kind.REQUEST) throw new ProtocolError(`rpc client sent a server frame (type ${f.kind})`);
    let inc = this.#incoming.get(f.id);
    let part = f.body;
    if (inc === undefined) {
      if (this.#running.has(f.id)) throw new ProtocolError(`rpc client reused the running request id ${f.id}`);
      if (this.#incoming.size + this.#running.size >= SERVER_MAX_OPEN_IDS) {
        throw new ProtocolError(`rpc client exceeded ${SERVER_MAX_OPEN_IDS} open requests`);
      }
      const head = parseRequestHead(f.body);
      part = head.rest;
      inc = this.#admit(f.id, head.protocol);
      this.#incoming.set(f.id, inc);
    }
    const { entry, assembly } = inc;
    if (entry !== undefined && assembly !== undefined && !assembly.add(part)) {
      inc.entry = undefined;
      inc.assembly = undefined;
      this.#release(inc.protocol);
      this.#refuse(f.id, new MessageTooLargeError(`request over ${entry.maxFrameBytes} bytes for ${inc.protocol}`));
    }
    if (f.more) return;
    this.#incoming.delete(f.id);
    if (inc.entry !== undefined && inc.assembly !== undefined) {
      void this.#run(f.id, inc.protocol, inc.entry, inc.assembly.bytesOut());
    }
  }

  /** Decides whether a new request may run; a refused one is answered now and its fragments discarded. */
  #admit(id: number, protocol: string): Incoming {
    const entry = this.#lookup(protocol);
    const refused = (err: ShoalError): Incoming => {
      this.#refuse(id, err);
      return { entry: undefined, protocol, assembly: undefined };
    };
    if (entry === undefined)
      return refused(new ShoalError('REPLICAS_UNAVAILABLE', `protocol ${protocol} is not served`));
    if (this.#incoming.size + this.#running.size >= SERVER_MAX_CONCURRENT) {
      return refused(new ShoalError('REPLICAS_UNAVAILABLE', `too many concurrent requests (${SERVER_MAX_CONCURRENT})`));
    }
    const active = this.#perProtocol.get(protocol) ?? 0;
    if (active >= entry.maxConcurrent) {
      return refused(new ShoalError('REPLICAS_UNAVAILABLE', `too many concurrent ${protocol} requests`));
    }
    this.#perProtocol.set(protocol, active + 1);
    return { entry, protocol, assembly: new Assembly(entry.maxFrameBytes) };
  }

  #refuse(id: number, err: ShoalError): void {
    this.#writer.enqueue(Kind.REFUSED, id, encodeError(err));
  }

  #release(protocol: string): void {
    const n = (this.#perProtocol.get(protocol) ?? 1) - 1;
    if (n <= 0) this.#perProtocol.delete(protocol);
    else this.#perProtocol.set(protocol, n);
  }

  async #run(id: number, protocol: string, entry: HandlerEntry, req: Uint8Array): Promise<void> {
    // One controller per request, no listeners: CANCEL and close() abort it (the caller went away),
    // the timer aborts it with a NetTimeoutError (the caller is still there and is told).
    const ac = new AbortController();
    this.#running.set(id, ac);
    const timer = setTimeout(
      () => ac.abort(new NetTimeoutError(`handler ${protocol} timed out after ${entry.handlerTimeoutMs} ms`)),
      entry.handlerTimeoutMs,
    );
    const timedOut = (): boolean => ac.signal.reason instanceof NetTimeoutError;
    const gone = (): boolean => ac.signal.aborted && !timedOut();
    const log = this.#core.logger;
    try {
      let kind: Kind = Kind.OK;
      let answer: Uint8Array;
      try {
        answer = await entry.handler(req, peerInfo(this.#core, this.#from), { signal: ac.signal });
      } catch (err) {
        if (gone()) return; // the caller went away: nobody to answer
        if (timedOut()) {
          kind = Kind.REFUSED;
          answer = encodeError(ac.signal.reason);
        } else {
          kind = Kind.ERROR;
          answer = encodeError(err);
          if (!(err instanceof ShoalError)) log.warn({ err, protocol, from: this.#from }, 'rpc handler failed');
        }
      }
      const latency = this.#core.faults.delay(
        this.#core.selfZone,
        this.#core.zoneOf(this.#from) ?? '',
        timedOut() ? undefined : ac.signal,
      );
      if (latency !== undefined) await latency;
      if (!gone()) this.#writer.enqueue(kind, id, answer);
    } catch (err) {
      log.debug({ err, protocol, from: this.#from }, 'rpc request dropped');
    } finally {
      clearTimeout(timer);
      this.#running.delete(id);
      this.#release(protocol);
      if (this.#running.size === 0) this.#whenIdle?.();
    }
  }

  #idle(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#whenIdle = resolve;
    });
  }
}
