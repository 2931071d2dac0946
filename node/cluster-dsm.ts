/**
 * The DSM's controls for the whole cluster (`?scope=cluster` on `PUT /admin/dsm/policy`, `POST /admin/dsm/pause`
 * and `/resume`; `shoal dsm pause|resume|policy --cluster`; the dashboard's switch). Each daemon plans only the
 * partitions it coordinates, so an operator who pauses "the DSM" means every daemon's: the daemon asked applies
 * the change and hands it to every other member that is not down over {@link DSM_CONTROL_PROTOCOL}, and the
 * answer names each member's outcome. Members already trust each other on this channel (a rollback pauses every
 * DSM the same way); the operator needs one daemon and its token (see cluster-migrations.ts for why not the
 * members' admin APIs).
 */
import {
  applyDsmControl,
  type DsmClusterControl,
  type DsmControl,
  type DsmControlOutcome,
} from '../src/api/dsm-routes.ts';
import { DSM_POLICIES, type Dsm } from '../src/dsm/index.ts';
import { ShoalError } from '../src/errors/index.ts';
import { type Net, ProtocolError } from '../src/net/index.ts';

export const DSM_CONTROL_PROTOCOL = '/shoal/dsm-control/1.0.0';
const MEMBER_TIMEOUT_MS = 4000;
const enc = new TextEncoder();

function parseControl(bytes: Uint8Array, from: string): DsmControl {
  let c: DsmControl;
  try {
    c = JSON.parse(new TextDecoder().decode(bytes)) as DsmControl;
  } catch {
    throw new ProtocolError(`undecodable DSM control from ${from}`);
  }
  const ok =
    c?.op === 'pause' ||
    c?.op === 'resume' ||
    (c?.op === 'policy' && (DSM_POLICIES as readonly string[]).includes(c.policy));
  if (!ok) throw new ProtocolError(`malformed DSM control from ${from}`);
  return c;
}

/** Serves the members' controls to this daemon's DSM. */
export async function serveDsmControl(net: Net, dsm: () => Dsm | undefined): Promise<void> {
  await net.handle(DSM_CONTROL_PROTOCOL, async (bytes, from) => {
    const d = dsm();
    if (d === undefined) throw new ShoalError('NOT_READY', 'the Dynamic Sharding Manager is not running yet');
    applyDsmControl(d, parseControl(bytes, from.peerId));
    return enc.encode('{"ok":true}');
  });
}

/** Hands a control to every other member that is not down, at once; each member's outcome. */
export function dsmClusterControl(net: () => Net | undefined): DsmClusterControl {
  return async (control, signal) => {
    const n = net();
    if (n === undefined) return [];
    const others = n.members().filter((m) => !m.self && m.status !== 'down');
    return Promise.all(
      others.map(async (m): Promise<DsmControlOutcome> => {
        try {
          await n.request(m.peerId, DSM_CONTROL_PROTOCOL, enc.encode(JSON.stringify(control)), {
            signal,
            timeoutMs: MEMBER_TIMEOUT_MS,
          });
          return { peerId: m.peerId, ok: true };
        } catch (err) {
          return { peerId: m.peerId, ok: false, error: (err as Error).message };
        }
      }),
    );
  };
}
