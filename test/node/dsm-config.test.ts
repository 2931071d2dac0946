import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../node/config.ts';
import { START_OPTIONS } from '../../node/options.ts';
import { DEFAULT_PLANNER_CONFIG, DSM_POLICIES } from '../../src/dsm/index.ts';
import { tempDir } from '../support/daemon-process.ts';

const invalid = expect.objectContaining({ code: 'CONFIG_INVALID' });

describe('the DSM settings of shoal start', () => {
  it('default to the fixed interface and the planner defaults', () => {
    expect(resolveConfig([], {})).toMatchObject({
      dsmPolicy: 'hybrid',
      dsmIntervalMs: 60_000,
      survive: 'zone',
      dsmThreshold: DEFAULT_PLANNER_CONFIG.thresholdMs,
      dsmMaxMoves: DEFAULT_PLANNER_CONFIG.maxMoves,
      dsmMaxMbps: 50,
      dsmCooldownMs: DEFAULT_PLANNER_CONFIG.cooldownMs,
    });
  });

  it('offer exactly the contract policies', () => {
    expect(START_OPTIONS.find((o) => o.flag === 'dsm-policy')?.values).toEqual(DSM_POLICIES);
  });

  it('come from flags, SHOAL_* variables and the config file', () => {
    const file = join(tempDir(), 'c.json');
    writeFileSync(file, JSON.stringify({ dsmPolicy: 'reactive', dsmMaxMoves: 10, survive: 'node' }));
    const env = { SHOAL_CONFIG: file, SHOAL_DSM_INTERVAL_MS: '5000', SHOAL_DSM_MAX_MBPS: '12.5' };
    expect(resolveConfig(['--dsm-policy', 'off', '--dsm-threshold', '0', '--dsm-cooldown-ms', '0'], env)).toMatchObject(
      {
        dsmPolicy: 'off',
        dsmIntervalMs: 5000,
        survive: 'node',
        dsmThreshold: 0,
        dsmMaxMoves: 10,
        dsmMaxMbps: 12.5,
        dsmCooldownMs: 0,
      },
    );
  });

  it('refuse values out of range with CONFIG_INVALID', () => {
    const bad: Array<[string[], Record<string, string>, RegExp]> = [
      [['--dsm-policy', 'greedy'], {}, /expected one of off, reactive, proactive, hybrid/],
      [[], { SHOAL_SURVIVE: 'rack' }, /expected one of zone, node/],
      [['--dsm-interval-ms', '50'], {}, /dsm-interval-ms must be an integer from 100/],
      [['--dsm-interval-ms', '1500.5'], {}, /dsm-interval-ms must be an integer/],
      [['--dsm-interval-ms', String(86_400_001)], {}, /dsm-interval-ms/],
      [['--dsm-max-moves', '0'], {}, /dsm-max-moves must be an integer from 1 to 100000/],
      [['--dsm-max-moves', '2.5'], {}, /dsm-max-moves/],
      [['--dsm-max-mbps', '0'], {}, /dsm-max-mbps must be more than 0/],
      [['--dsm-max-mbps', '100001'], {}, /dsm-max-mbps/],
      [['--dsm-cooldown-ms', '1.5'], {}, /dsm-cooldown-ms must be an integer/],
      [['--dsm-threshold=-1'], {}, /expected a non-negative number/],
      [['--dsm-threshold', 'abc'], {}, /expected a non-negative number/],
    ];
    for (const [argv, env, message] of bad) {
      expect(() => resolveConfig(argv, env), argv.join(' ') || JSON.stringify(env)).toThrow(invalid);
      expect(() => resolveConfig(argv, env)).toThrow(message);
    }
  });
});
