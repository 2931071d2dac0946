import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../node/logger.ts';
import { DAEMON_NODE_FLAGS } from '../../node/node-flags.ts';
import { type DaemonProcess, freePort, kill9, startDaemonProcess, tempDir } from '../support/daemon-process.ts';
import { descendants, procStat } from '../support/procs.ts';

const CLI = resolve(import.meta.dirname, '../../node/cli.ts');

const running: DaemonProcess[] = [];
const leftovers: number[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await kill9(d);
  for (const pid of leftovers.splice(0)) if (procStat(pid)) process.kill(pid, 'SIGKILL');
});

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk;
      done();
    },
  });
  return { stream, text: () => text };
}

describe('for a person at a terminal', () => {
  it('logs JSON lines when stdout is not a terminal, and pretty lines when it is', async () => {
    const json = capture();
    (await createLogger({ level: 'info', zone: 'eu' }, { tty: false, destination: json.stream })).info(
      { n: 1 },
      'hello',
    );
    expect(JSON.parse(json.text())).toMatchObject({ level: 30, zone: 'eu', n: 1, msg: 'hello' });
    const human = capture();
    (await createLogger({ level: 'info', zone: 'eu' }, { tty: true, destination: human.stream })).info(
      { n: 1 },
      'hello',
    );
    expect(human.text()).toMatch(/INFO.*hello/);
    expect(() => JSON.parse(human.text())).toThrow();
  });

  it.skipIf(process.platform !== 'linux')('names the daemon process shoal in ps, with its arguments', async () => {
    const d = await startDaemonProcess();
    running.push(d);
    const pid = d.proc.pid!;
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8')).toMatch(/^shoal start/);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '');
    expect(cmdline).toBe(['shoal', ...d.args].join(' '));
  });

  it.skipIf(process.platform !== 'linux')(
    'prints pretty logs on a real terminal (script(1) gives it one)',
    async () => {
      const port = await freePort();
      const cmd = [process.execPath, ...DAEMON_NODE_FLAGS, CLI, 'start', '--data-dir', tempDir(), '--http-port', port];
      const tty = spawn('script', ['-qefc', cmd.join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      tty.stdout.on('data', (b) => {
        out += b;
      });
      const deadline = Date.now() + 20_000;
      while (!out.includes('shoal daemon ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      leftovers.push(...descendants(tty.pid!), tty.pid!);
      expect(out).toMatch(/INFO.*shoal daemon ready/);
      expect(out).not.toMatch(/"level":30/);
    },
  );
});
