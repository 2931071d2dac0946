/**
 * The operator dashboard at `/dashboard/`: static HTML, CSS and ES modules from `src/dashboard/`, and
 * uPlot (the moves-over-time chart) from `node_modules/uplot/dist/`, both served by @fastify/static.
 *
 * No build step, on purpose: the page is a few hundred lines of plain ES modules that the browser loads
 * as they are committed (nothing to bundle, transpile or keep in sync with a generated file), and its one
 * library, uPlot, ships a ready ES module. A build would only add a toolchain to CI for no gain at this size.
 *
 * The page itself is public (static files, no data); every number on it comes from the admin API, which
 * keeps its own rule (a bearer token when one is configured, loopback only otherwise). The page asks for
 * the token once and keeps it in `sessionStorage`.
 *
 * @packageDocumentation
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import { classify, sendError } from './errors.ts';

/** Where the page's own files live. */
export const DASHBOARD_ROOT = resolve(import.meta.dirname, '../dashboard');
/**
 * uPlot's build folder, or undefined when the package is missing (a partial install): the daemon must not
 * fail to start over its dashboard's chart, so the page then shows everything but the chart. (uplot's
 * `exports` name its builds, not its package.json: the main build sits in dist/ beside the others.)
 */
function uplotDist(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('uplot'));
  } catch {
    return undefined;
  }
}

/**
 * Only this origin's scripts, styles and API; no framing. Styles allow inline attributes because uPlot
 * positions its cursor and legend with `style` attributes.
 */
const CSP = [
  "default-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** A path outside the page's files (a missing file, `..`) is not found, whatever @fastify/static calls it. */
const notFound = (req: FastifyRequest, reply: FastifyReply) =>
  sendError(reply, new ShoalError('ROUTE_NOT_FOUND', `no dashboard file ${req.url.split('?')[0]}`));

/** The files, under their own prefix so that a missing one is a 404 here (the app's handler would say 405). */
async function files(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_req, reply) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
  });
  app.setNotFoundHandler(notFound);
  app.setErrorHandler((err: FastifyError, req, reply) =>
    err.statusCode === 403 || err.statusCode === 404 ? notFound(req, reply) : sendError(reply, classify(err)),
  );
  await app.register(fastifyStatic, {
    root: DASHBOARD_ROOT,
    decorateReply: false,
    index: 'index.html',
    // A new daemon version may bring new files: the browser revalidates (ETag) instead of guessing.
    cacheControl: false,
    setHeaders: (reply) => reply.header('cache-control', 'no-cache'),
  });
  const uplot = uplotDist();
  if (uplot === undefined) {
    app.log.warn('dashboard: the uplot package is missing (npm ci), the page shows no chart');
    return;
  }
  await app.register(fastifyStatic, {
    root: uplot,
    prefix: '/vendor/uplot/',
    decorateReply: false,
    allowedPath: (path) => path === '/uPlot.esm.js' || path === '/uPlot.min.css',
  });
}

/** `GET /dashboard` (redirects to `/dashboard/`), `/dashboard/*` and `/dashboard/vendor/uplot/*`. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  // Relative module imports in index.html resolve against `/dashboard/`, not `/`.
  app.get('/dashboard', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/dashboard/', 302));
  await app.register(files, { prefix: '/dashboard' });
}
