/**
 * Who can reach the admin API, checked at start-up: the admin rule (a bearer token, else loopback clients
 * only) is safe only on an address other hosts cannot reach, and `--data-auth` and the listeners' flags must
 * fit together.
 */
import { ConfigError, type DaemonConfig } from './config.ts';

/** True for an address only this host can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Address of the admin listener when it has one of its own. */
export const DEFAULT_ADMIN_HOST = '127.0.0.1';

type AdminFlags = Pick<
  DaemonConfig,
  | 'adminTokenFile'
  | 'httpHost'
  | 'httpPort'
  | 'adminHost'
  | 'adminPort'
  | 'dataAuth'
  | 'rateLimitAdmin'
  | 'rateLimitData'
>;

/**
 * The admin API without a token answers loopback clients only: on an address other hosts reach, every
 * client behind a reverse proxy on this host would look like loopback and get it. So a daemon refuses to
 * serve the admin API beyond loopback without `--admin-token-file`: on `--http-host` when the admin API
 * shares the data listener, on `--admin-host` when `--admin-port` gives it its own (the data listener may
 * then face other hosts without a token). Resolves `adminHost` to its default when `adminPort` is set.
 */
export function validateAdminExposure(cfg: AdminFlags): void {
  const fail = (message: string) => new ConfigError(message);
  if (cfg.adminPort === undefined) {
    if (cfg.adminHost !== undefined) throw fail('--admin-host needs --admin-port (the admin listener it addresses)');
  } else {
    if (!Number.isInteger(cfg.adminPort) || cfg.adminPort > 65535)
      throw fail(`--admin-port ${cfg.adminPort} is not a port`);
    if (cfg.adminPort !== 0 && cfg.adminPort === cfg.httpPort)
      throw fail(`--admin-port ${cfg.adminPort} is --http-port too: give the admin listener another port`);
    cfg.adminHost ??= DEFAULT_ADMIN_HOST;
  }
  const [flag, host] = cfg.adminPort === undefined ? ['--http-host', cfg.httpHost] : ['--admin-host', cfg.adminHost!];
  if (cfg.adminTokenFile === undefined && !isLoopbackHost(host))
    throw fail(
      `${flag} ${host} is reachable from other hosts: give --admin-token-file (the admin API would otherwise trust every client that reaches it through a local proxy)`,
    );
  if (cfg.dataAuth === 'on' && cfg.adminTokenFile === undefined)
    throw fail('--data-auth on needs --admin-token-file (the token data requests must carry)');
  for (const [name, v] of [
    ['rate-limit-admin', cfg.rateLimitAdmin],
    ['rate-limit-data', cfg.rateLimitData],
  ] as const)
    if (!Number.isInteger(v)) throw fail(`--${name} must be a whole number of requests per second, got ${v}`);
}
