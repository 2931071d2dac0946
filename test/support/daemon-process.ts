import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../node/node-flags.ts';

const CLI = resolve(import.meta.dirname, '../../node/cli.ts');

/** A `shoal start` child process started by a test. */
export interface DaemonProcess {
  url: string;
  dataDir: string;
  args: string[];
  proc: ChildProcess;
  output: () => string;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

export const tempDir = (prefix = 'shoal-test-') => mkdtempSync(join(tmpdir(), prefix));

/** Runs the CLI with `args` (no waiting); resolves with exit code and output when it exits. */
export function runCli(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => {
      out += b;
    });
    p.stderr.on('data', (b) => {
      out += b;
    });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      res({ code, out });
    });
  });
}

/** Starts `shoal start` and waits until /healthz answers. */
export async function startDaemonProcess(extra: string[] = [], dataDir = tempDir()): Promise<DaemonProcess> {
  const port = await freePort();
  // Any free libp2p port unless the caller names one: the default (--http-port + 1000) may be taken by another
  // daemon of the run.
  const listen = extra.includes('--listen') ? [] : ['--listen', '/ip4/127.0.0.1/tcp/0'];
  const args = [
    'start',
    '--data-dir',
    dataDir,
    '--http-port',
    String(port),
    '--log-level',
    'warn',
    ...listen,
    ...extra,
  ];
  return launch({ url: `http://127.0.0.1:${port}`, dataDir, args });
}

/** Starts `shoal start` with `d.args` on `nodeFlags` (the daemon's own by default) and waits until /healthz answers. */
export async function launch(
  d: { url: string; dataDir: string; args: string[] },
  nodeFlags: readonly string[] = DAEMON_NODE_FLAGS,
): Promise<DaemonProcess> {
  let out = '';
  const proc = spawn(process.execPath, [...nodeFlags, CLI, ...d.args], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (b) => {
    out += b;
  });
  proc.stderr?.on('data', (b) => {
    out += b;
  });
  const started: DaemonProcess = { ...d, proc, output: () => out };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}: ${out.slice(-500)}`);
    try {
      const r = await fetch(`${d.url}/healthz`, { signal: AbortSignal.timeout(500) });
      if (r.ok) return started;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`daemon not healthy within 20 s: ${out.slice(-500)}`);
}

/** SIGKILLs the daemon and waits for the process to be gone. */
export async function kill9(d: DaemonProcess): Promise<void> {
  if (d.proc.exitCode !== null || d.proc.signalCode !== null) return;
  const gone = new Promise((r) => d.proc.once('exit', r));
  d.proc.kill('SIGKILL');
  await gone;
}

/** SIGTERMs the daemon and resolves with its exit code. */
export async function stopGracefully(d: DaemonProcess): Promise<number | null> {
  if (d.proc.exitCode !== null) return d.proc.exitCode;
  const gone = new Promise<number | null>((r) => d.proc.once('exit', (code) => r(code)));
  d.proc.kill('SIGTERM');
  return gone;
}

/**
 * Runs the CLI with `args` and resolves with its exit code, stdout and stderr apart (`--json` output must be
 * stdout alone); `SHOAL_URL` and the token file come only from `env`, never from the test's environment.
 */
export function runShoal(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SHOAL_URL: '', SHOAL_ADMIN_TOKEN_FILE: '', SHOAL_ADMIN_PORT: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => {
      stdout += b;
    });
    p.stderr.on('data', (b) => {
      stderr += b;
    });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}
