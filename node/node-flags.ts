/**
 * Node/V8 flags a daemon runs with. V8 takes GC flags only at process start (changing
 * concurrent marking at run time aborts the process), so every launcher passes them: the npm scripts,
 * the `shoal` shebang, the test and cluster harnesses and the benchmarks.
 *
 * `--single-threaded-gc`: do all GC work on the main thread. Measured on 2-core hosts under load
 * (README "Node flags"): with V8's helper threads some daemon processes ran ~20 % slower for their whole
 * life (frequent major GCs whose concurrent marking competed for the cores); with this flag every
 * process ran at the fast speed, and bare fastify gained ~10 % too.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = [
  '--single-threaded-gc',
  // Diagnostics (README "Node flags"), e.g. `--perf-basic-prof` so that `perf record -g` names JavaScript frames.
  ...(process.env.SHOAL_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
];

/** The recommended flags this process was started without. */
export const missingNodeFlags = (execArgv: readonly string[] = process.execArgv): string[] =>
  DAEMON_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
