import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createZoneRtt, LatencyMatrixError, loadLatencyMatrix, type RttMember } from '../../src/pae/latency.ts';

const dir = await mkdtemp(join(tmpdir(), 'shoal-latency-'));
async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('loadLatencyMatrix', () => {
  it('reads a JSON file or inline JSON of zone → zone ms', async () => {
    const path = await file('good.json', '{"eu": {"na": 80, "ap": 210.5}, "na": {"ap": 150, "na": 0}}');
    expect(loadLatencyMatrix(path)).toEqual({ eu: { na: 80, ap: 210.5 }, na: { ap: 150, na: 0 } });
    expect(loadLatencyMatrix(' {"eu": {"na": 80}}')).toEqual({ eu: { na: 80 } });
    expect(loadLatencyMatrix('{}')).toEqual({});
  });

  it('refuses an unreadable file, bad JSON, a bad shape, non-numbers and negatives with CONFIG_INVALID', async () => {
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'missing.json'), /missing\.json: cannot read the file/],
      [await file('bad.json', '{"eu": {"na": 80,}}'), /bad\.json: not valid JSON/],
      [await file('array.json', '[1, 2]'), /expected a JSON object/],
      ['{"eu": 80}', /"eu" must map to an object/],
      ['{"eu": {"na": "80"}}', /"eu" → "na" must be a non-negative number of ms, got "80"/],
      ['{"eu": {"na": -1}}', /"eu" → "na" must be a non-negative number of ms, got -1/],
      ['{"eu": {"na": null}}', /got null/],
      ['{"": {"na": 1}}', /zone names must not be empty/],
    ];
    for (const [spec, message] of cases) {
      let caught: unknown;
      try {
        loadLatencyMatrix(spec, '--latency-matrix');
      } catch (err) {
        caught = err;
      }
      expect(caught, spec).toBeInstanceOf(LatencyMatrixError);
      expect(caught, spec).toMatchObject({ code: 'CONFIG_INVALID', name: 'LatencyMatrixError' });
      expect((caught as Error).message, spec).toMatch(/^--latency-matrix /);
      expect((caught as Error).message, spec).toMatch(message);
    }
  });
});

describe('createZoneRtt', () => {
  const member = (zone: string, rttMs: number | undefined, status: RttMember['status'] = 'up'): RttMember => ({
    zone,
    status,
    self: false,
    ...(rttMs === undefined ? {} : { rttMs }),
  });

  it("is the median smoothed RTT of up peers, between this daemon's zone and another, either way round", () => {
    const members: RttMember[] = [
      { zone: 'eu', status: 'up', self: true },
      member('na', 80),
      member('na', 100),
      member('na', 90),
      member('na', 5, 'down'),
      member('na', 7, 'suspect'),
      member('ap', 200),
      member('ap', 220),
      member('sa', undefined),
      member('eu', 2),
    ];
    const rtt = createZoneRtt({ members: () => members }, { zone: 'eu' });
    expect(rtt.rttMs('eu', 'na')).toBe(90);
    expect(rtt.rttMs('na', 'eu')).toBe(90);
    expect(rtt.rttMs('eu', 'ap')).toBe(210);
    expect(rtt.rttMs('eu', 'eu')).toBe(2);
    expect(rtt.rttMs('eu', 'sa')).toBeUndefined(); // no ping answered yet
    expect(rtt.rttMs('na', 'ap')).toBeUndefined(); // neither side is this daemon's zone
    expect(rtt.measuredZones()).toEqual(['ap', 'eu', 'na']);
  });

  it('is 0 within its own zone without a measured peer there, and unknown without any member', () => {
    const rtt = createZoneRtt({ members: () => [] }, { zone: 'eu' });
    expect(rtt.rttMs('eu', 'eu')).toBe(0);
    expect(rtt.rttMs('eu', 'na')).toBeUndefined();
    expect(rtt.measuredZones()).toEqual([]);
  });

  it('reads the members at most once per maxAgeMs', () => {
    let now = 0;
    let reads = 0;
    let members = [member('na', 50)];
    const rtt = createZoneRtt(
      {
        members: () => {
          reads++;
          return members;
        },
        clock: () => now,
      },
      { zone: 'eu', maxAgeMs: 1000 },
    );
    for (let i = 0; i < 100; i++) rtt.rttMs('eu', 'na');
    expect(reads).toBe(1);
    members = [member('na', 70)];
    now = 999;
    expect(rtt.rttMs('eu', 'na')).toBe(50);
    now = 1000;
    expect(rtt.rttMs('eu', 'na')).toBe(70);
    expect(reads).toBe(2);
  });
});
