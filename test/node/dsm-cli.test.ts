import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, runShoal, tempDir } from '../support/daemon-process.ts';
import { DONE, dsmApp, FAILED, FakeDsm, IN_FLIGHT, PLAN } from '../support/dsm-fake.ts';

/** Runs the real `shoal` process; stdout and stderr apart (--json output must be stdout alone). */
const shoal = (args: string[], env: Record<string, string> = {}) => runShoal(args, env, 20_000);

const TOKEN = 'cli-test-token';
let dsm: FakeDsm;
let app: FastifyInstance;
let url: string;
let tokenFile: string;
/** The daemon's URL and token: every command below talks to the real HTTP server. */
let auth: string[];

beforeAll(async () => {
  app = await dsmApp(() => dsm, { adminToken: TOKEN });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  tokenFile = join(tempDir(), 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  auth = ['--url', url, '--admin-token-file', tokenFile];
});
afterAll(async () => app.close());
beforeEach(() => {
  dsm = new FakeDsm();
});

describe('shoal dsm', () => {
  it('status prints a table of the DSM, and --json the API answer', async () => {
    const human = await shoal(['dsm', 'status', ...auth]);
    expect(human.code, human.stderr).toBe(0);
    for (const text of ['policy', 'hybrid', 'paused', 'no', '1 min', 'zone', '200 ms', '256 per cycle', '50 MB/s'])
      expect(human.stdout).toContain(text);
    expect(human.stdout).toContain('15 min'); // cooldown
    expect(human.stdout).toContain('2023-11-14T22:13:20.000Z'); // last cycle
    expect(human.stdout).toContain('below-threshold 35, cooldown 3');
    expect(human.stdout).toContain('1 / 1'); // done / failed
    const json = await shoal(['dsm', 'status', '--json', ...auth]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(dsm.status());
  });

  it('plan prints each move (key, kind, short holders, gain, bytes, reason), and --json the plan', async () => {
    const human = await shoal(['dsm', 'plan', ...auth]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('2 move(s) planned, 40 record(s) considered; skipped: cooldown 1, pinned 1');
    for (const text of ['user/42', 'replace', '…aaaaaa,…bbbbbb,…cccccc → …eeeeee,…bbbbbb,…cccccc', '951', '2.0 KiB'])
      expect(human.stdout).toContain(text);
    expect(human.stdout).toContain('proactive: eu 120 majority accesses forecast');
    expect(human.stdout).toContain('cart/9');
    const json = await shoal(['dsm', 'plan', '--json', '--limit', '1', ...auth]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ ...PLAN, moves: [PLAN.moves[0]], skipped: [PLAN.skipped[0]] });
    expect(dsm.planOptions).toEqual([{ limit: 100 }, { limit: 1 }]);
  });

  it('pause, resume and policy reach the DSM and print its new status', async () => {
    const paused = await shoal(['dsm', 'pause', ...auth]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain('DSM paused.');
    expect(paused.stdout).toMatch(/paused\s*│\s*yes/);
    const resumed = await shoal(['dsm', 'resume', '--json', ...auth]);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ paused: false });
    const policy = await shoal(['dsm', 'policy', 'proactive', ...auth]);
    expect(policy.code, policy.stderr).toBe(0);
    expect(policy.stdout).toContain('DSM policy set to proactive.');
    const off = await shoal(['dsm', 'policy', 'off', '--json', ...auth]);
    expect(JSON.parse(off.stdout).policy).toBe('off');
    expect(dsm.calls).toEqual(['pause', 'resume', 'setPolicy proactive', 'setPolicy off']);
  });

  it('an unknown policy is refused by the daemon: its code, exit 1', async () => {
    const r = await shoal(['dsm', 'policy', 'greedy', ...auth]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^shoal: INVALID_BODY: body\/policy must be one of off, reactive, proactive, hybrid\n$/);
    expect(r.stdout).toBe('');
    expect(dsm.calls).toEqual([]);
  });

  it('a refusal of the admin API (no token) prints its code, exit 1', async () => {
    const r = await shoal(['dsm', 'status', '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^shoal: UNAUTHORIZED: /);
  });

  it('takes the daemon from SHOAL_URL and the token from SHOAL_ADMIN_TOKEN_FILE', async () => {
    const r = await shoal(['dsm', 'status', '--json'], { SHOAL_URL: url, SHOAL_ADMIN_TOKEN_FILE: tokenFile });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).policy).toBe('hybrid');
  });

  it('says clearly when no daemon answers', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const r = await shoal(['dsm', 'status', '--url', dead]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`shoal: cannot reach the daemon at ${dead} (`);
    expect(r.stderr).toContain('ECONNREFUSED');
    expect(r.stderr).toContain('is it running? point --url or SHOAL_URL at it');
  });

  it('answers --help and -h for the command and every subcommand, exit 0', async () => {
    const all = await shoal(['dsm', '--help']);
    expect(all.code).toBe(0);
    for (const sub of ['status', 'plan', 'pause', 'resume', 'policy']) expect(all.stdout).toContain(`shoal dsm ${sub}`);
    for (const sub of ['status', 'plan', 'pause', 'resume', 'policy']) {
      const r = await shoal(['dsm', sub, '-h']);
      expect(r.code, sub).toBe(0);
      expect(r.stdout).toContain(`shoal dsm ${sub}`);
      expect(r.stdout).toContain('--url');
    }
    expect((await shoal(['dsm', 'plan', '--help'])).stdout).toContain('--limit');
  });

  it('usage errors exit 2 with the usage', async () => {
    for (const args of [
      ['dsm'],
      ['dsm', 'explode'],
      ['dsm', 'policy'],
      ['dsm', 'policy', 'off', 'extra'],
      ['dsm', 'status', '--bogus'],
      ['dsm', 'plan', '--limit', 'abc'],
      ['dsm', 'plan', '--limit', '0'],
      ['dsm', 'pause', '--limit', '3'],
    ]) {
      const r = await shoal([...args, ...auth]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('usage:');
    }
    expect(dsm.calls).toEqual([]);
  });
});

describe('shoal migrations', () => {
  it('prints in-flight moves, then the history with outcomes, epochs and errors', async () => {
    const r = await shoal(['migrations', ...auth]);
    expect(r.code, r.stderr).toBe(0);
    const inFlight = r.stdout.indexOf('in flight (1):');
    const history = r.stdout.indexOf('history (2, most recent first):');
    expect(inFlight).toBeGreaterThanOrEqual(0);
    expect(history).toBeGreaterThan(inFlight);
    const before = r.stdout.slice(inFlight, history);
    const after = r.stdout.slice(history);
    expect(before).toContain(IN_FLIGHT.key);
    expect(before).toContain('copying');
    expect(before).toContain('…aaaaaa,…bbbbbb,…cccccc → …aaaaaa,…bbbbbb,…cccccc,…eeeeee');
    for (const text of [DONE.key, 'done', 'partition:17 #5', '4 s', FAILED.key, 'failed', 'manual', 'timed out'])
      expect(after).toContain(text);
  });

  it('--json prints the API answer; --limit reaches the daemon', async () => {
    const r = await shoal(['migrations', '--json', '--limit', '7', ...auth]);
    expect(r.code, r.stderr).toBe(0);
    const { epoch: _none, ...failed } = FAILED;
    expect(JSON.parse(r.stdout)).toEqual({ inFlight: [IN_FLIGHT], history: [DONE, failed] });
    expect(dsm.migrationQueries).toEqual([{ limit: 7 }]);
  });

  it('answers --help, refuses stray arguments (exit 2) and a daemon that is not running (exit 1)', async () => {
    const help = await shoal(['migrations', '-h']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('shoal migrations [--limit <n>]');
    const stray = await shoal(['migrations', 'list', ...auth]);
    expect(stray.code).toBe(2);
    const dead = await shoal(['migrations', '--url', `http://127.0.0.1:${await freePort()}`]);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toContain('cannot reach the daemon');
  });

  it('is listed by shoal --help', async () => {
    const r = await shoal(['--help']);
    expect(r.stdout).toContain('migrations');
    expect(r.stdout).toMatch(/dsm\s+dynamic sharding manager/);
  });
});
