import type { FastifyInstance } from 'fastify';
import { ShoalError } from '../errors/index.ts';

/** Past this many bytes an over-size body is no longer drained: the connection is dropped. */
const MAX_DRAIN_BYTES = 256 * 1024 * 1024;

/**
 * Accepts any content type as raw bytes up to `limit`. An over-size body is read to its end and
 * discarded before the 413 answer, so clients that send the whole body before reading the response
 * (most HTTP clients) see `PAYLOAD_TOO_LARGE` instead of a reset connection.
 */
export function acceptRawBodies(app: FastifyInstance, limit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    let tooLarge = declared > limit;
    const chunks: Buffer[] = [];
    let size = 0;
    let drained = 0;
    payload.on('data', (chunk: Buffer) => {
      if (tooLarge) {
        drained += chunk.length;
        if (drained > MAX_DRAIN_BYTES) payload.destroy();
        return;
      }
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    payload.on('end', () => {
      if (tooLarge) done(new ShoalError('PAYLOAD_TOO_LARGE', `value is larger than the limit of ${limit} bytes`));
      else done(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    payload.on('error', (err) => done(err));
  });
}
