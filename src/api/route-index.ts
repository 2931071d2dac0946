import type { FastifyInstance } from 'fastify';

/** One route an app serves, as registered (`url` in fastify's `:param` syntax). */
export interface RouteEntry {
  method: string;
  url: string;
  /** Left out of the OpenAPI document on purpose (`schema.hide`). */
  hidden: boolean;
}

const indexes = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Starts recording every route added to `app` and its plugins (install on the root, before any route). */
export function indexRoutes(app: FastifyInstance): void {
  const list: RouteEntry[] = [];
  indexes.set(app, list);
  app.addHook('onRoute', (route) => {
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    for (const method of [route.method].flat()) list.push({ method, url: route.url, hidden });
  });
}

/** Every route `app` serves (empty for an app built without {@link indexRoutes}). */
export const routesOf = (app: FastifyInstance): readonly RouteEntry[] => indexes.get(app) ?? [];
