import { decode, encode } from '@msgpack/msgpack';
import type { Logger } from 'pino';
import type { Net } from '../net/index.ts';
import { ProtocolError } from '../net/index.ts';
import type { StoredRecord } from '../store/index.ts';
import type { LocalEngine } from './local-engine.ts';
import { verifyRecord } from './replica-client.ts';
import {
  checkWireRecord,
  decodeTransferFrame,
  encodeTransferFrame,
  fromWire,
  TRANSFER_PROTOCOL,
  toWire,
  type WireRecord,
} from './wire.ts';

/** Records are grouped into frames of about this many bytes. */
const FRAME_BYTES = 256 * 1024;
/** Records merged at once by a transfer's receiver (a frame of many tiny records stays bounded in flight). */
const APPLY_WIDTH = 256;

export interface TransferResult {
  applied: number;
  rejected: number;
}

/** What {@link sendRecords} resolves to: the receiver's counts and the value bytes this end sent. */
export interface SendResult extends TransferResult {
  bytes: number;
}

/**
 * Streams records to `peer` over a flow-controlled bulk stream (at most a window of unacknowledged
 * bytes in flight, so pnet never sees megabytes queued). The receiver verifies every checksum and
 * merges each record through the CRDT rules.
 */
export async function sendRecords(
  net: Net,
  peer: string,
  records: AsyncIterable<{ key: string; record: StoredRecord }> | Iterable<{ key: string; record: StoredRecord }>,
  signal?: AbortSignal,
): Promise<SendResult> {
  const sender = await net.openBulk(peer, TRANSFER_PROTOCOL, { signal });
  try {
    let batch: Array<[string, WireRecord]> = [];
    let bytes = 0;
    let valueBytes = 0;
    for await (const { key, record } of records) {
      const size = record.value.byteLength + key.length + 200;
      // A large record goes in a frame of its own, never on top of a batch: the receiver refuses frames
      // over its limit (one 16 MiB value plus headroom).
      if (batch.length > 0 && bytes + size > FRAME_BYTES) {
        await sender.write(encodeTransferFrame(batch), { signal });
        batch = [];
        bytes = 0;
      }
      batch.push([key, toWire(record)]);
      bytes += size;
      valueBytes += record.value.byteLength;
    }
    if (batch.length > 0) await sender.write(encodeTransferFrame(batch), { signal });
    const result = decode(await sender.end({ signal, timeoutMs: 60_000 })) as TransferResult;
    return { applied: result.applied, rejected: result.rejected, bytes: valueBytes };
  } catch (err) {
    sender.abort(err as Error);
    throw err;
  }
}

/**
 * Serves incoming transfers: verifies and merges every record. Records merge while later frames arrive
 * (at most {@link APPLY_BYTES} of them at once): group commit then writes many frames' records in one
 * store batch, where merging a frame before reading the next paid one store round trip per frame
 * (64 KiB records: three per frame) and stalled the sender's window meanwhile.
 */
export async function serveTransfers(net: Net, local: LocalEngine, logger: Logger): Promise<void> {
  await net.handleBulk(TRANSFER_PROTOCOL, async (frames, from, { signal }) => {
    const result: TransferResult = { applied: 0, rejected: 0 };
    const merging = new ApplyWindow();
    const apply = async (entry: unknown) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !checkWireRecord(entry[1])) {
        result.rejected++;
        return;
      }
      try {
        await local.applyRecord(entry[0], verifyRecord(entry[0], fromWire(entry[1]), from.peerId), {
          signal,
          bulk: true,
        });
        result.applied++;
      } catch (err) {
        if (!signal.aborted) logger.warn({ err, key: entry[0], from: from.peerId }, 'transfer: record rejected');
        result.rejected++;
      }
    };
    try {
      for await (const frame of frames) {
        let batch: unknown;
        try {
          batch = decodeTransferFrame(frame);
        } catch {
          throw new ProtocolError(`undecodable transfer frame from ${from.peerId}`);
        }
        if (!Array.isArray(batch)) throw new ProtocolError(`malformed transfer frame from ${from.peerId}`);
        for (const entry of batch as unknown[]) {
          signal.throwIfAborted(); // the stream is gone: no warning per remaining record
          const bytes = Array.isArray(entry) && entry[1]?.v instanceof Uint8Array ? entry[1].v.byteLength : 0;
          await merging.admit(bytes, () => apply(entry));
        }
      }
    } finally {
      await merging.drain();
    }
    return encode(result);
  });
}

/** Bytes of records merged at once by a transfer's receiver. */
const APPLY_BYTES = 8 * 1024 * 1024;

/** Runs tasks concurrently, at most {@link APPLY_WIDTH} of them and {@link APPLY_BYTES} of their records at once. */
class ApplyWindow {
  #count = 0;
  #bytes = 0;
  #wake: (() => void) | undefined;
  readonly #running = new Set<Promise<void>>();

  /** Starts `task` (which never rejects) once it fits; resolves when it has started. */
  async admit(bytes: number, task: () => Promise<void>): Promise<void> {
    while (this.#count > 0 && (this.#count >= APPLY_WIDTH || this.#bytes + bytes > APPLY_BYTES)) {
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
    this.#count++;
    this.#bytes += bytes;
    const run = task().finally(() => {
      this.#count--;
      this.#bytes -= bytes;
      this.#running.delete(run);
      const wake = this.#wake;
      this.#wake = undefined;
      wake?.();
    });
    this.#running.add(run);
  }

  /** Resolves when every started task has ended. */
  async drain(): Promise<void> {
    await Promise.all(this.#running);
  }
}
