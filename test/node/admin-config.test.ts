import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../node/config.ts';
import { freePort, runShoal, tempDir } from '../support/daemon-process.ts';

const d = tempDir();
const token = join(d, 'token');
writeFileSync(token, 'secret');
const cfg = (...args: string[]) => resolveConfig(['--data-dir', d, ...args], {});

describe('admin listener, --data-auth and rate-limit settings', () => {
  it('by default the admin API shares the data listener; admin limited at 100/s, data not, loopback exempt', () => {
    const c = cfg();
    expect(c.adminPort).toBeUndefined();
    expect(c.adminHost).toBeUndefined();
    expect(c).toMatchObject({ dataAuth: 'off', rateLimitAdmin: 100, rateLimitData: 0, rateLimitLoopback: 'exempt' });
  });

  it('a separate admin listener is on loopback unless --admin-host says otherwise', () => {
    expect(cfg('--admin-port', '7071')).toMatchObject({ adminPort: 7071, adminHost: '127.0.0.1' });
    expect(cfg('--admin-port', '0', '--admin-host', '::1').adminHost).toBe('::1');
  });

  it('refuses a non-loopback --admin-host without --admin-token-file, and takes it with one', () => {
    for (const host of ['0.0.0.0', '10.1.2.3', '::'])
      expect(() => cfg('--admin-port', '7071', '--admin-host', host)).toThrow(
        new RegExp(`--admin-host ${host.replace(/\./g, '\\.')} is reachable from other hosts: give --admin-token-file`),
      );
    expect(cfg('--admin-port', '7071', '--admin-host', '0.0.0.0', '--admin-token-file', token).adminHost).toBe(
      '0.0.0.0',
    );
  });

  it('a data listener beyond loopback needs no token when the admin API listens on loopback alone', () => {
    expect(() => cfg('--http-host', '0.0.0.0')).toThrow(/--http-host 0\.0\.0\.0 is reachable/);
    expect(cfg('--http-host', '0.0.0.0', '--admin-port', '7071').httpHost).toBe('0.0.0.0');
  });

  it('refuses flags that do not fit together', () => {
    expect(() => cfg('--admin-host', '127.0.0.1')).toThrow(/--admin-host needs --admin-port/);
    expect(() => cfg('--http-port', '7070', '--admin-port', '7070')).toThrow(/--admin-port 7070 is --http-port too/);
    expect(() => cfg('--admin-port', '70000')).toThrow(/not a port/);
    expect(() => cfg('--data-auth', 'on')).toThrow(/--data-auth on needs --admin-token-file/);
    expect(cfg('--data-auth', 'on', '--admin-token-file', token).dataAuth).toBe('on');
    expect(() => cfg('--rate-limit-admin', '2.5')).toThrow(/--rate-limit-admin must be a whole number/);
    expect(() => cfg('--rate-limit-loopback', 'maybe')).toThrow(/exempt, limit/);
    expect(resolveConfig(['--data-dir', d], { SHOAL_RATE_LIMIT_DATA: '500' }).rateLimitData).toBe(500);
  });

  it('shoal start refuses a non-loopback --admin-host without a token: CONFIG_INVALID, exit 2, nothing created', async () => {
    const dataDir = join(tempDir(), 'never');
    const port = String(await freePort());
    const args = ['start', '--data-dir', dataDir, '--admin-port', port, '--admin-host', '0.0.0.0'];
    const r = await runShoal([...args, '--http-port', String(await freePort())]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^shoal: CONFIG_INVALID: --admin-host 0\.0\.0\.0 is reachable from other hosts/);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('empty settings', () => {
  it('an empty SHOAL_ADMIN_TOKEN_FILE is no token: a public address is still refused', () => {
    const env = { SHOAL_ADMIN_TOKEN_FILE: '', SHOAL_HTTP_PORT: '' };
    expect(() => resolveConfig(['--data-dir', d, '--http-host', '0.0.0.0'], env)).toThrow(/give --admin-token-file/);
    expect(resolveConfig(['--data-dir', d], env)).toMatchObject({ adminTokenFile: undefined, httpPort: 7070 });
  });
});
