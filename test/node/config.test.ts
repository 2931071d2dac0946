import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig, storageLimitBytes } from '../../node/config.ts';
import { tempDir } from '../support/daemon-process.ts';

describe('resolveConfig', () => {
  it('refuses an HTTP address beyond loopback without an admin token', () => {
    const d = tempDir('shoal-cfg-');
    expect(() => resolveConfig(['--data-dir', d, '--http-host', '0.0.0.0'], {})).toThrow(/admin-token-file/);
    expect(() => resolveConfig(['--data-dir', d, '--http-host', '10.1.2.3'], {})).toThrow(/CONFIG|admin-token-file/);
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) {
      expect(resolveConfig(['--data-dir', d, '--http-host', host], {}).httpHost).toBe(host);
    }
    const token = join(d, 'token');
    writeFileSync(token, 'secret');
    expect(resolveConfig(['--data-dir', d, '--http-host', '0.0.0.0', '--admin-token-file', token], {}).httpHost).toBe(
      '0.0.0.0',
    );
  });

  it('uses the fixed-interface defaults', () => {
    const cfg = resolveConfig([], {});
    expect(cfg).toMatchObject({
      dataDir: './data',
      httpHost: '127.0.0.1',
      httpPort: 7070,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      listenIsDefault: true,
      announce: [],
      zone: 'local',
      store: 'level',
      join: [],
      durability: 'fsync',
    });
  });

  it('knows whether --listen came from a flag, the environment or a file, or is the default', () => {
    expect(resolveConfig(['--http-port', '7071'], {}).listenIsDefault).toBe(true);
    // any given --listen wins, from every source, and is used as given
    const given = resolveConfig(['--listen', '/ip4/127.0.0.1/tcp/0'], {});
    expect(given).toMatchObject({ listen: ['/ip4/127.0.0.1/tcp/0'], listenIsDefault: false });
    expect(resolveConfig([], { SHOAL_LISTEN: '/ip4/0.0.0.0/tcp/4001' })).toMatchObject({
      listen: ['/ip4/0.0.0.0/tcp/4001'],
      listenIsDefault: false,
    });
  });

  it('takes --announce addresses (repeatable) and refuses what is not a multiaddr', () => {
    const announce = ['/dns4/db1.example.net/tcp/8070', '/ip4/203.0.113.7/tcp/8070'];
    expect(resolveConfig(['--announce', announce[0], '--announce', announce[1]], {}).announce).toEqual(announce);
    expect(resolveConfig([], { SHOAL_ANNOUNCE: announce.join(',') }).announce).toEqual(announce);
    for (const [flag, bad] of [
      ['--announce', 'db1.example.net:8070'],
      ['--listen', '/ip4/999.1.1.1/tcp/1'],
      ['--listen', '/'],
    ])
      expect(() => resolveConfig([flag, bad], {}), `${flag} ${bad}`).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringContaining(`${flag} "${bad}" is not a multiaddr`),
        }),
      );
  });

  it('orders precedence flag > env > config file > default', () => {
    const file = join(tempDir(), 'c.json');
    writeFileSync(file, JSON.stringify({ zone: 'file', httpPort: 1, durability: 'os', join: ['/a'] }));
    const env = { SHOAL_CONFIG: file, SHOAL_ZONE: 'env', SHOAL_HTTP_PORT: '2' };
    expect(resolveConfig([], env)).toMatchObject({ zone: 'env', httpPort: 2, durability: 'os', join: ['/a'] });
    expect(resolveConfig(['--zone', 'flag'], env)).toMatchObject({ zone: 'flag', httpPort: 2 });
    expect(resolveConfig(['--join', '/x', '--join', '/y'], env).join).toEqual(['/x', '/y']);
    expect(resolveConfig([], { SHOAL_JOIN: '/p,/q' }).join).toEqual(['/p', '/q']);
  });

  it('turns the bulk side channel on by default, on any free port', () => {
    expect(resolveConfig([], {})).toMatchObject({ bulkTls: 'on', bulkPort: 0 });
    expect(resolveConfig(['--bulk-port', '7400'], { SHOAL_BULK_TLS: 'off' })).toMatchObject({
      bulkTls: 'off',
      bulkPort: 7400,
    });
    expect(() => resolveConfig(['--bulk-port', '70000'], {})).toThrow(/not a port/);
    expect(() => resolveConfig(['--bulk-port', '1.5'], {})).toThrow(/not a port/);
    expect(() => resolveConfig(['--bulk-tls', 'yes'], {})).toThrow(/expected one of on, off/);
  });

  it('--storage-limit-mb: no limit by default, MiB in bytes, never negative or past a safe integer', () => {
    const none = resolveConfig([], {});
    expect(none.storageLimitMb).toBe(0);
    expect(storageLimitBytes(none)).toBe(0);
    const cfg = resolveConfig(['--storage-limit-mb', '1.5'], {});
    expect(storageLimitBytes(cfg)).toBe(1.5 * 1024 * 1024);
    expect(resolveConfig([], { SHOAL_STORAGE_LIMIT_MB: '512' }).storageLimitMb).toBe(512);
    expect(() => resolveConfig(['--storage-limit-mb=-1'], {})).toThrow(/expected a non-negative number/);
    expect(() => resolveConfig(['--storage-limit-mb', String(2 ** 40)], {})).toThrow(/--storage-limit-mb .* too large/);
  });

  it('rejects unknown flags, bad values and unknown config keys with CONFIG_INVALID', () => {
    expect(() => resolveConfig(['--bogus', '1'], {})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => resolveConfig(['--http-port', 'abc'], {})).toThrow(/expected a non-negative number/);
    expect(() => resolveConfig(['--http-port', '70000'], {})).toThrow(/not a port/);
    expect(() => resolveConfig(['--max-value-bytes', String(16 * 1024 * 1024 + 1)], {})).toThrow(/at most 16777216/);
    expect(resolveConfig(['--max-value-bytes', '1024'], {}).maxValueBytes).toBe(1024);
    // The message names the setting as the user wrote it, wherever it came from.
    expect(() => resolveConfig(['--durability', 'sometimes'], {})).toThrow(
      'flag --durability: expected one of fsync, os, got "sometimes"',
    );
    expect(() => resolveConfig([], { SHOAL_DURABILITY: 'x' })).toThrow('env SHOAL_DURABILITY for --durability:');
    expect(() => resolveConfig([], { SHOAL_STORE: 'mongo' })).toThrow(/expected one of level, sqlite, postgres, s3/);
    const file = join(tempDir(), 'c.json');
    writeFileSync(file, '[1]');
    expect(() => resolveConfig(['--config', file], {})).toThrow(/not a JSON object/);
  });
});
