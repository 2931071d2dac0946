/**
 * Reference transfer for bench:cluster: the same frames over a plain `node:net` socket pair on
 * loopback, in this process, with backpressure (`write()` false → wait for `drain`). Frames are
 * length-prefixed (4-byte big-endian); with `onFrame` the receiver reassembles and hands over every
 * frame (so a decode step costs the same as on the bulk stream), without it the receiver only counts
 * bytes (the ceiling).
 */
import { connect, createServer, type Socket } from 'node:net';

export interface RawTcpResult {
  /** From the first write until the receiver has every byte. */
  ms: number;
  /** Payload bytes (without the length prefixes). */
  bytes: number;
  frames: number;
}

export interface RawTcpOptions {
  /** Called with every reassembled frame, in order. */
  onFrame?: (frame: Uint8Array) => void;
  /** Give up after this long. Default 60 000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Sends `frames` from one loopback socket to another and resolves when the receiver has them all. */
export async function rawTcpTransfer(frames: readonly Uint8Array[], opts: RawTcpOptions = {}): Promise<RawTcpResult> {
  const payload = frames.reduce((n, f) => n + f.byteLength, 0);
  const wireBytes = payload + 4 * frames.length;
  let finish: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const received = new Promise<void>((res, rej) => {
    finish = res;
    fail = rej;
  });
  let inbound: Socket | undefined;
  const server = createServer((sock) => {
    inbound = sock;
    sock.on('error', fail);
    sock.on('data', opts.onFrame ? reassembler(opts.onFrame, wireBytes, finish) : counter(wireBytes, finish));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  client.setNoDelay(true);
  client.on('error', fail);
  await new Promise((res) => client.once('connect', res));
  const timer = setTimeout(() => fail(new Error('raw TCP transfer timed out')), opts.timeoutMs ?? 60_000);
  const onAbort = () => fail(new Error('raw TCP transfer aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const t0 = performance.now();
    const header = Buffer.alloc(4);
    for (const f of frames) {
      header.writeUInt32BE(f.byteLength);
      client.write(Buffer.from(header));
      if (!client.write(f)) await Promise.race([new Promise((res) => client.once('drain', res)), received]);
    }
    await received;
    return { ms: performance.now() - t0, bytes: payload, frames: frames.length };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    client.destroy();
    inbound?.destroy();
    await new Promise((res) => server.close(res));
  }
}

function counter(total: number, done: () => void): (chunk: Buffer) => void {
  let n = 0;
  return (chunk) => {
    n += chunk.byteLength;
    if (n >= total) done();
  };
}

function reassembler(onFrame: (f: Uint8Array) => void, total: number, done: () => void): (chunk: Buffer) => void {
  let n = 0;
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    n += chunk.byteLength;
    buf = buf.byteLength === 0 ? chunk : Buffer.concat([buf, chunk]);
    let off = 0;
    while (buf.byteLength - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.byteLength - off - 4 < len) break;
      onFrame(buf.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    buf = buf.subarray(off);
    if (n >= total && buf.byteLength === 0) done();
  };
}
