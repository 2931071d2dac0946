import { describe, expect, it } from 'vitest';
import { runCli } from '../support/daemon-process.ts';

/** Subcommands of the commands that have them; every other command is asked for help on its own. */
const SUBCOMMANDS: Record<string, string[]> = {
  stats: ['import', 'top'],
  pae: ['train', 'eval', 'predict'],
  placement: ['show', 'set', 'reset', 'list'],
  dsm: ['status', 'plan', 'pause', 'resume', 'policy'],
};

/** Runs `jobs` at most `n` at a time (each one is a Node process; the test machines have 2 cores). */
async function pool<T>(jobs: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}

describe('--help and -h', () => {
  it('every command and subcommand prints its usage and exits 0', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    // The command list of `shoal --help`, so that a new command is covered without editing this test.
    const commands = [...top.out.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]);
    expect(commands).toEqual(expect.arrayContaining(['start', 'status', 'errors', 'dsm', 'migrations']));
    const words = commands.flatMap((c) => [[c], ...(SUBCOMMANDS[c] ?? []).map((s) => [c, s])]);
    const runs = words.flatMap((w) => ['--help', '-h'].map((h) => [...w, h]));
    const results = await pool(
      runs.map((args) => async () => ({ args, ...(await runCli(args)) })),
      3,
    );
    const failed = results
      .filter(
        (r) => r.code !== 0 || !/^usage:/m.test(r.out) || !r.out.includes(`shoal ${r.args.slice(0, -1).join(' ')}`),
      )
      .map((r) => `${r.args.join(' ')} → ${r.code}: ${r.out.slice(0, 200)}`);
    expect(failed).toEqual([]);
  }, 120_000);
});
