import type { FastifyRequest } from 'fastify';
import { ShoalError } from '../errors/index.ts';

/**
 * The access-statistics tags a data request carries: `x-shoal-origin` (the origin zone, for trace replay) and
 * `x-shoal-app`. Each becomes a name in the stats this daemon gossips, where names are 1 to 256 characters
 * (src/stats/codec.ts): an empty or longer origin would make every summary of this daemon fail validation on
 * its peers, blinding the cluster's view of it. So a bad tag is refused up front, before the request acts.
 */
const MAX_TAG_CHARS = 256;

/** onRequest hook of the data routes: `400 INVALID_HEADER` for an origin or app tag the stats cannot carry. */
export async function checkAccessTags(req: FastifyRequest): Promise<void> {
  const origin = req.headers['x-shoal-origin'];
  if (origin !== undefined && (typeof origin !== 'string' || origin.length === 0 || origin.length > MAX_TAG_CHARS)) {
    throw new ShoalError('INVALID_HEADER', `x-shoal-origin must be a zone name of 1 to ${MAX_TAG_CHARS} characters`);
  }
  const app = req.headers['x-shoal-app'];
  if (app !== undefined && (typeof app !== 'string' || app.length > MAX_TAG_CHARS)) {
    throw new ShoalError('INVALID_HEADER', `x-shoal-app must be at most ${MAX_TAG_CHARS} characters`);
  }
}
