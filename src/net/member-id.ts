import { ShoalError } from '../errors/index.ts';

/** What a (possibly short) peer id names among the members: one id, none, or several. */
export type MemberIdMatch =
  | { readonly kind: 'one'; readonly id: string }
  | { readonly kind: 'none' | 'ambiguous'; readonly candidates: readonly string[]; readonly count: number };

/** How many candidates a message names at most. */
const MAX_NAMED = 10;

/**
 * The member a peer id names: the whole id, or a unique suffix or prefix of one (the logs and
 * `GET /admin/layout` print the last 8 characters; every Ed25519 peer id starts `12D3KooW`, so a
 * prefix must go past that to be unique). `none` lists every member, `ambiguous` the matching ones,
 * at most {@link MAX_NAMED}, so an error message can name them.
 */
export function matchMemberId(ids: readonly string[], text: string): MemberIdMatch {
  if (ids.includes(text)) return { kind: 'one', id: text };
  const hits = text === '' ? [] : ids.filter((id) => id.endsWith(text) || id.startsWith(text));
  if (hits.length === 1) return { kind: 'one', id: hits[0] };
  const pool = hits.length === 0 ? ids : hits;
  return { kind: hits.length === 0 ? 'none' : 'ambiguous', candidates: pool.slice(0, MAX_NAMED), count: pool.length };
}

/** The candidates of a failed match for a message: `a, b, c` (and how many more). */
export function nameCandidates(match: Exclude<MemberIdMatch, { kind: 'one' }>): string {
  if (match.count === 0) return '(none)';
  const more = match.count - match.candidates.length;
  return `${match.candidates.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/**
 * The one member `text` names (see {@link matchMemberId}); throws MEMBER_NOT_FOUND (naming the
 * members) or MEMBER_AMBIGUOUS (naming the candidates).
 */
export function resolveMemberId(ids: readonly string[], text: string): string {
  const match = matchMemberId(ids, text);
  if (match.kind === 'one') return match.id;
  if (match.kind === 'ambiguous')
    throw new ShoalError(
      'MEMBER_AMBIGUOUS',
      `peer id ${text} matches ${match.count} members: ${nameCandidates(match)}`,
    );
  throw new ShoalError('MEMBER_NOT_FOUND', `no cluster member matches ${text}; members: ${nameCandidates(match)}`);
}
