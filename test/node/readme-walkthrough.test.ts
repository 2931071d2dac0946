import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, kill9, startDaemonProcess, tempDir } from '../support/daemon-process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'node/cli.ts');
const hasCurl = spawnSync('curl', ['--version']).status === 0;

/** The README's data API walk-through, aimed at `url` (and `npx shoal` at this checkout's CLI). */
function walkThrough(url: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.indexOf('## A walk through the data API');
  const start = readme.indexOf('```sh\n', section) + '```sh\n'.length;
  const block = readme.slice(start, readme.indexOf('```', start));
  return block
    .replaceAll('http://127.0.0.1:7070', url)
    .replaceAll('npx shoal status', `${process.execPath} ${CLI} status --url ${url}`);
}

let d: DaemonProcess;
beforeAll(async () => {
  d = await startDaemonProcess();
}, 30_000);
afterAll(async () => kill9(d));

describe('the README walk-through', () => {
  it.skipIf(!hasCurl)('runs as written on a fresh daemon in an empty directory', async () => {
    const cwd = tempDir('shoal-readme-');
    const run = spawnSync('bash', ['-e', '-c', walkThrough(d.url)], { cwd, encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    // It made its own photo, and read it back byte for byte.
    expect(readFileSync(join(cwd, 'copy.jpg')).equals(readFileSync(join(cwd, 'photo.jpg')))).toBe(true);
    // The conditional write found the version it read, and kept the content type it named.
    expect(run.stdout).not.toMatch(/PRECONDITION_FAILED/);
    const meta = (await (await fetch(`${d.url}/v1/records/photos%2F1?meta=1`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ contentType: 'text/plain', size: 3 });
  });
});
