import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeVarint } from '../../src/net/frames.ts';
import { ProtocolError } from '../../src/net/index.ts';
import { SocketFrameReader } from '../../src/net/socket-frames.ts';

const MAX = 4 * 1024 * 1024;
const open: Array<Socket | Server> = [];

/** A loopback pair: `reader` reads `client` (with onread or 'data'), the test writes raw bytes on `server`. */
async function pair(viaOnread: boolean): Promise<{ reader: SocketFrameReader; client: Socket; server: Socket }> {
  let accepted!: (s: Socket) => void;
  const got = new Promise<Socket>((r) => {
    accepted = r;
  });
  const srv = createServer((s) => accepted(s));
  open.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const reader = new SocketFrameReader(MAX, 'peer');
  const client = connect({ port, host: '127.0.0.1', ...(viaOnread ? { onread: reader.onread } : {}) });
  client.on('error', () => undefined);
  const server = await got;
  server.on('error', () => undefined);
  open.push(client, server);
  reader.attach(client, viaOnread);
  return { reader, client, server };
}

const framed = (payload: Uint8Array) => Buffer.concat([encodeVarint(payload.byteLength), payload]);

/** Writes `bytes` in pieces of random size (1 byte to 70 KiB), so frames straddle every boundary. */
async function writeScattered(socket: Socket, bytes: Buffer): Promise<void> {
  let off = 0;
  let seed = 7;
  while (off < bytes.byteLength) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (seed % (70 * 1024));
    if (!socket.write(bytes.subarray(off, off + n))) await new Promise((r) => socket.once('drain', r));
    off += n;
  }
}

afterEach(() => {
  for (const s of open.splice(0)) 'destroy' in s ? s.destroy() : s.close();
});

describe.each([true, false])('SocketFrameReader (onread: %s)', (viaOnread) => {
  it('hands over every frame intact, whatever the chunking', async () => {
    const { reader, server } = await pair(viaOnread);
    const frames = [0, 1, 2, 127, 128, 16_383, 16_384, 16_385, 70_000, 1024 * 1024, 3, 0, 300_000].map((n) =>
      randomBytes(n),
    );
    for (let i = 0; i < 500; i++) frames.push(randomBytes(1 + ((i * 7919) % 3000)));
    const writing = writeScattered(server, Buffer.concat(frames.map(framed)));
    for (const f of frames) expect(Buffer.from((await reader.next())!).equals(f)).toBe(true);
    await writing;
    server.end();
    expect(await reader.next()).toBeUndefined();
  });

  it('rejects an oversized frame and closes the socket', async () => {
    const { reader, client, server } = await pair(viaOnread);
    server.write(encodeVarint(MAX + 1));
    await expect(reader.next()).rejects.toBeInstanceOf(ProtocolError);
    await new Promise((r) => (client.destroyed ? r(undefined) : client.once('close', r)));
  });

  it('rejects a length varint longer than 5 bytes', async () => {
    const { reader, server } = await pair(viaOnread);
    server.write(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
    await expect(reader.next()).rejects.toThrow(/varint/);
  });

  it('rejects a stream that ends inside a frame, after the frames before it', async () => {
    const { reader, server } = await pair(viaOnread);
    server.end(Buffer.concat([framed(Buffer.from('whole')), encodeVarint(100), Buffer.from('only part')]));
    expect(Buffer.from((await reader.next())!).toString()).toBe('whole');
    await expect(reader.next()).rejects.toThrow(/ended inside a frame/);
  });

  it('stops reading while unconsumed frames pile up, then resumes', async () => {
    const { reader, client, server } = await pair(viaOnread);
    const frame = framed(randomBytes(256 * 1024));
    const count = 128; // 32 MiB, far more than the reader buffers
    const writing = (async () => {
      for (let i = 0; i < count; i++) if (!server.write(frame)) await new Promise((r) => server.once('drain', r));
    })();
    await new Promise((r) => setTimeout(r, 300));
    expect(client.bytesRead).toBeLessThan(8 * 1024 * 1024); // 4 MiB of frames + what one read brings
    for (let i = 0; i < count; i++) expect((await reader.next())?.byteLength).toBe(256 * 1024);
    await writing;
  });
});
