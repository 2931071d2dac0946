/**
 * Stopping `npm start` (or `npx shoal start`) stops the daemon.
 *
 * npm runs a script as `sh -c '<script>'` and forwards SIGINT and SIGTERM to that shell only. dash, the `sh`
 * of Debian and Ubuntu, forks the command instead of replacing itself with it, so a SIGTERM to npm killed
 * the shell and left the daemon running, re-parented to PID 1. Two measures, each covering what the
 * other cannot:
 *
 * 1. the `start` and `shoal` scripts `exec` node, so the shell becomes the daemon and npm's forwarded
 *    signal reaches it (a graceful stop, and npm exits with the daemon);
 * 2. {@link watchParent}: a daemon that an npm script started (npm sets `npm_lifecycle_event` in its
 *    environment) stops when its parent dies. That covers `npx shoal start`, whose command npm also runs
 *    through `sh -c` (the package.json cannot add `exec` there), and an npm that was SIGKILLed.
 *
 * The watch polls `process.ppid` (once a second, timer unref'd): Node has no parent-death signal
 * (prctl PR_SET_PDEATHSIG) and an IPC channel would need a parent that opens one, which npm does not. It
 * is off for a daemon started any other way: `nohup shoal start &`, setsid or a service manager may
 * re-parent a daemon on purpose, and that daemon must keep running.
 */

/** How often the parent is checked. */
export const PARENT_POLL_MS = 1000;

/**
 * Calls `onOrphaned` once when this process's parent changes (it died and the process was re-parented),
 * if an npm script started the process (`env.npm_lifecycle_event`). Returns a function that stops the watch.
 */
export function watchParent(
  onOrphaned: (parentPid: number) => void,
  env: NodeJS.ProcessEnv = process.env,
  readPpid: () => number = () => process.ppid,
): () => void {
  if (env.npm_lifecycle_event === undefined) return () => {};
  const parent = readPpid();
  const timer = setInterval(() => {
    if (readPpid() === parent) return;
    clearInterval(timer);
    onOrphaned(parent);
  }, PARENT_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
