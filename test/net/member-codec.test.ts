import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMembers, encodeMembers, type MemberInfo, parseMemberInfo } from '../../src/net/member-codec.ts';
import { storageChanged } from '../../src/net/member-storage.ts';

const base: MemberInfo = {
  peerId: '12D3KooWGW4NGgUEhf5ubosWE7Wa7gGFKTEyDU591NqGyqZLBpCg',
  zone: 'z1',
  capacity: 1,
  storeKind: 'level',
  apiUrl: 'http://127.0.0.1:7070',
  multiaddrs: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGW4NGgUEhf5ubosWE7Wa7gGFKTEyDU591NqGyqZLBpCg'],
  joinedAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_001,
};

const MiB = 1024 * 1024;

describe('member codec: storage fields', () => {
  it('round-trips usedBytes and limitBytes, each optional, with the message', () => {
    const bytes = fc.option(fc.maxSafeNat(), { nil: undefined });
    fc.assert(
      fc.property(bytes, bytes, (usedBytes, limitBytes) => {
        const info: MemberInfo = { ...base };
        if (usedBytes !== undefined) info.usedBytes = usedBytes;
        if (limitBytes !== undefined) info.limitBytes = limitBytes;
        const msg = decodeMembers(encodeMembers({ self: info, known: [info, base] }));
        expect(msg.self).toStrictEqual(info);
        expect(msg.known).toStrictEqual([info, base]);
      }),
    );
  });

  it('decodes a record of an older daemon, without the fields', () => {
    const old = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    const got = parseMemberInfo(old);
    expect(got).toStrictEqual(base);
    expect('usedBytes' in got || 'limitBytes' in got).toBe(false);
  });

  it('refuses negative, fractional, unsafe, non-numeric and null byte counts', () => {
    for (const field of ['usedBytes', 'limitBytes'])
      for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, '10', null, true, {}]) {
        expect(() => parseMemberInfo({ ...base, [field]: bad }), `${field}=${String(bad)}`).toThrow(
          expect.objectContaining({
            code: 'PROTOCOL_ERROR',
            message: `member ${field} must be a non-negative integer`,
          }),
        );
      }
    // one bad record refuses the whole message, as for every other field
    const msg = JSON.stringify({ self: base, known: [{ ...base, usedBytes: -5 }] });
    expect(() => decodeMembers(new TextEncoder().encode(msg))).toThrow(/usedBytes/);
  });
});

describe('member codec: the admin URL', () => {
  it('round-trips adminUrl with the message, and reads a record without it (an older daemon) as having none', () => {
    const info: MemberInfo = { ...base, adminUrl: 'http://127.0.0.1:7071' };
    const msg = decodeMembers(encodeMembers({ self: info, known: [info, base] }));
    expect(msg.self).toStrictEqual(info);
    expect(msg.known[1]).toStrictEqual(base);
    expect('adminUrl' in msg.known[1]).toBe(false);
    expect(parseMemberInfo({ ...base, adminUrl: 'https://admin.example:8443/' }).adminUrl).toBe(
      'https://admin.example:8443/',
    );
  });

  it('refuses an adminUrl that is not an http(s) URL: the dashboard links to it', () => {
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'not a url', '', 42, null, 'x'.repeat(3000)])
      expect(() => parseMemberInfo({ ...base, adminUrl: bad }), String(bad).slice(0, 30)).toThrow(
        expect.objectContaining({ code: 'PROTOCOL_ERROR', message: expect.stringMatching(/member adminUrl must be/) }),
      );
  });
});

describe('member codec: what the failure detector and the ring need', () => {
  it('refuses a peer id that does not parse (or is not canonical), an empty zone and a capacity that is not > 0', () => {
    const cases: Array<[keyof MemberInfo, unknown, RegExp]> = [
      ['peerId', 'not-a-peer-id', /not a peer id/],
      ['peerId', '12D3KofWGW4NGgUEhf5ubosWE7Wa7gGFKTEyDU591NqGyqZLBpCg', /not a peer id/],
      ['peerId', '', /not a peer id/],
      ['zone', '', /zone must not be empty/],
      ['capacity', 0, /capacity must be > 0/],
      ['capacity', -1, /capacity must be > 0/],
    ];
    for (const [field, bad, message] of cases)
      expect(() => parseMemberInfo({ ...base, [field]: bad }), `${field}=${String(bad)}`).toThrow(
        expect.objectContaining({ code: 'PROTOCOL_ERROR', message: expect.stringMatching(message) }),
      );
  });
});

describe('storageChanged: when a new record version is worth it', () => {
  it('a changed limit, or a used size appearing or disappearing, always is', () => {
    expect(storageChanged({ usedBytes: 10 }, { usedBytes: 10, limitBytes: 100 })).toBe(true);
    expect(storageChanged({ usedBytes: 10, limitBytes: 100 }, { usedBytes: 10 })).toBe(true);
    expect(storageChanged({}, { usedBytes: 0 })).toBe(true);
    expect(storageChanged({ usedBytes: 0 }, {})).toBe(true);
    expect(storageChanged({}, {})).toBe(false);
  });

  it('a used size is re-announced past 1 MiB and 1 %, or when it crosses the limit', () => {
    expect(storageChanged({ usedBytes: 0 }, { usedBytes: MiB })).toBe(false);
    expect(storageChanged({ usedBytes: 0 }, { usedBytes: MiB + 1 })).toBe(true);
    expect(storageChanged({ usedBytes: 1000 * MiB }, { usedBytes: 1009 * MiB })).toBe(false);
    expect(storageChanged({ usedBytes: 1000 * MiB }, { usedBytes: 989 * MiB })).toBe(true);
    const limit = 500 * MiB;
    expect(storageChanged({ usedBytes: limit - 1, limitBytes: limit }, { usedBytes: limit, limitBytes: limit })).toBe(
      true,
    );
    expect(
      storageChanged({ usedBytes: limit + 1, limitBytes: limit }, { usedBytes: limit + 2, limitBytes: limit }),
    ).toBe(false);
  });
});
