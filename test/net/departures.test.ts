import { describe, expect, it } from 'vitest';
import { Departures, isDeparture } from '../../src/net/departures.ts';
import type { MemberInfo } from '../../src/net/member-codec.ts';
import { matchMemberId, resolveMemberId } from '../../src/net/member-id.ts';

const info = (peerId: string, updatedAt: number, extra: Partial<MemberInfo> = {}): MemberInfo => ({
  peerId,
  zone: 'z',
  capacity: 1,
  storeKind: 'level',
  apiUrl: 'http://x',
  multiaddrs: [],
  joinedAt: 1,
  updatedAt,
  ...extra,
});

describe('departures', () => {
  it('a member that left comes back only with a newer record', () => {
    const d = new Departures();
    expect(isDeparture(info('a', 5, { leaving: true }))).toBe(true);
    expect(d.note(info('a', 5, { leaving: true }))).toBe(true);
    expect(d.note(info('a', 5, { leaving: true }))).toBe(false);
    expect(d.blocks(info('a', 4))).toBe(true); // a stale copy from a peer's list
    expect(d.blocks(info('a', 9))).toBe(false); // started again
    expect(d.get('a')).toBeUndefined();
  });

  it('a removed member stays removed, whatever it announces later', () => {
    const d = new Departures();
    expect(d.note(info('b', 5, { removed: true }))).toBe(true);
    expect(d.blocks(info('b', 1_000))).toBe(true);
    expect(d.note(info('b', 1_000, { leaving: true }))).toBe(false);
    expect(d.get('b')?.removed).toBe(true);
  });

  it('a removal replaces a departure by leaving', () => {
    const d = new Departures();
    d.note(info('c', 5, { leaving: true }));
    expect(d.note(info('c', 6, { removed: true }))).toBe(true);
    expect(d.list()).toHaveLength(1);
  });
});

describe('short peer ids', () => {
  const ids = ['12D3KooWAbcdEF11', '12D3KooWXyzzEF22', '12D3KooWQrst0033'];
  it('a whole id, a unique suffix or a unique prefix names one member', () => {
    expect(matchMemberId(ids, ids[0])).toEqual({ kind: 'one', id: ids[0] });
    expect(matchMemberId(ids, 'EF22')).toEqual({ kind: 'one', id: ids[1] });
    expect(matchMemberId(ids, '12D3KooWQ')).toEqual({ kind: 'one', id: ids[2] });
  });
  it('an ambiguous or unknown id names the candidates in a catalogue error', () => {
    expect(() => resolveMemberId(ids, '12D3KooW')).toThrow(
      expect.objectContaining({ code: 'MEMBER_AMBIGUOUS', message: expect.stringContaining(ids[2]) }),
    );
    expect(() => resolveMemberId(ids, 'nope')).toThrow(
      expect.objectContaining({ code: 'MEMBER_NOT_FOUND', message: expect.stringContaining(ids[0]) }),
    );
    expect(() => resolveMemberId(ids, '')).toThrow(expect.objectContaining({ code: 'MEMBER_NOT_FOUND' }));
  });
});
