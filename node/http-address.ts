import { createServer, type Server } from 'node:net';
import { ShoalError } from '../src/errors/index.ts';

/** Another process listens on the daemon's HTTP address (start-up). */
export class AddressInUseError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('ADDRESS_IN_USE', message, options);
    this.name = 'AddressInUseError';
  }
}

/** `host:port`, with an IPv6 host in brackets. */
export const hostPort = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * The one-line start-up error for a failed listen on `host:port`, or `err` itself when it is not about the
 * address; `flag` is the flag that chooses the port (`--http-port`, `--admin-port`).
 */
export function listenError(err: unknown, host: string, port: number, flag = '--http-port', what = 'HTTP'): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE')
    return new AddressInUseError(
      `${what} address ${hostPort(host, port)} is already in use (another shoal daemon?); choose another with ${flag}`,
      { cause: err },
    );
  return err;
}

/**
 * Fails with {@link AddressInUseError} when `host:port` cannot be listened on because something else holds it,
 * so that `shoal start` refuses before it creates or opens anything. Port 0 (any free port) always passes. A
 * process that takes the port between this check and the daemon's own listen still gets the same error from
 * there (see {@link listenError}).
 */
export async function assertHttpAddressFree(
  host: string,
  port: number,
  flag = '--http-port',
  what = 'HTTP',
): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenError(err, host, port, flag, what)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Listens `app` on `host:port` and resolves with its base URL (the port it got, for port 0). */
export async function listenAt(
  app: { listen(o: { host: string; port: number }): Promise<string>; server: Server },
  host: string,
  port: number,
  flag = '--http-port',
): Promise<string> {
  await app.listen({ host, port }).catch((err: unknown) => {
    throw listenError(err, host, port, flag);
  });
  const addr = app.server.address();
  return `http://${hostPort(host, typeof addr === 'object' && addr ? addr.port : port)}`;
}

/**
 * The same check for each `--listen` multiaddr on TCP with a fixed port (`/ip4/<host>/tcp/<port>`,
 * `/ip6/...`): the default port is fixed, so a second daemon on the host with the same `--http-port` family
 * learns it before anything is created, and what to change.
 */
export async function assertListenFree(listen: readonly string[]): Promise<void> {
  for (const address of listen) {
    const m = /^\/ip[46]\/([^/]+)\/tcp\/(\d+)(?:\/|$)/.exec(address);
    if (m) await assertHttpAddressFree(m[1], Number(m[2]), '--listen', 'libp2p');
  }
}
