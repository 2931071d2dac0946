/**
 * The operator dashboard in a real browser (Debian's chromium, driven by playwright-core) against real
 * daemons: a 3-daemon cluster (zones a, b, c; R = 2; fast stats and PAE cycles) and one daemon with an
 * admin token. Skips itself when /usr/bin/chromium is missing (`apt-get install chromium`; .ci/run does).
 * Screenshots land in test/artifacts/ (gitignored).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../cluster/helpers.ts';
import { type Cluster, recordUrl, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import {
  type DaemonProcess,
  runShoal,
  startDaemonProcess,
  stopGracefully,
  tempDir,
} from '../support/daemon-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = resolve(import.meta.dirname, '../artifacts');
const ZONES = ['a', 'b', 'c'];
const ARGS = [
  ...['--replicas', '2', '--dsm-policy', 'off', '--storage-limit-mb', '512'],
  ...['--pae-interval-ms', '1000', '--stats-bucket-ms', '1000', '--stats-gossip-interval-ms', '1000'],
];

if (!HAVE_CHROMIUM) {
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
}

type D = { url: string };
const json = async <T>(r: Response): Promise<T> => (await r.json()) as T;
const adminGet = async <T>(d: D, path: string): Promise<T> => json<T>(await fetch(`${d.url}${path}`));

/** A page on `url` that records console errors and uncaught exceptions. */
async function open(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(`${url}/dashboard`);
  return { page, errors };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });

describe.skipIf(!HAVE_CHROMIUM)('dashboard in a browser', () => {
  let browser: Browser;
  let c: Cluster;
  let ids: string[];
  let tokenDaemon: DaemonProcess | undefined;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [browser, c] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true }),
      startCluster({ n: 3, zones: ZONES, extra: ZONES.map(() => ARGS) }),
    ]);
    ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    if (tokenDaemon) await stopGracefully(tokenDaemon);
    await stopAllClusters();
  });

  it('loads without console errors and shows every daemon of the cluster, by zone', async () => {
    const { page, errors } = await open(browser, c.daemons[0].url);
    for (const id of ids) await page.locator(`#cluster .daemon[data-peer="${id}"]`).waitFor({ timeout: 10_000 });
    for (const z of ZONES) expect(await page.locator(`#cluster .zone[data-zone="${z}"] .daemon`).count()).toBe(1);
    expect(await page.locator('#cluster .daemon[data-status="up"]').count()).toBe(3);
    expect(await page.locator('#login').isHidden()).toBe(true);
    // Every other daemon's tile links to its own dashboard, at the admin URL its member record announces.
    type Peer = { peerId: string; self?: boolean; apiUrl: string; adminUrl?: string };
    const peers = (await adminGet<{ members: Peer[] }>(c.daemons[0], '/admin/peers')).members;
    for (const m of peers.filter((p) => !p.self)) {
      expect(m.adminUrl, m.peerId).toBe(m.apiUrl); // one listener here: the same URL
      const href = await page.locator(`#cluster a.daemon[data-peer="${m.peerId}"]`).getAttribute('href');
      expect(href).toBe(`${m.adminUrl}/dashboard/`);
    }
    // A member with an admin listener of its own (--admin-port) is linked there, one that predates the field at
    // its API URL, and a record with a link that is no http(s) URL gets no link at all.
    // (A string: the test runner would rewrite the import of a function's source.)
    const links = await page.evaluate(`import('./cluster.js').then(({ dashboardUrl }) => [
        dashboardUrl({ apiUrl: 'http://10.0.0.5:7070', adminUrl: 'http://127.0.0.1:7071' }),
        dashboardUrl({ apiUrl: 'http://10.0.0.5:7070' }),
        dashboardUrl({ apiUrl: 'http://10.0.0.5:7070', adminUrl: 'javascript:alert(1)' }),
      ].map((u) => u ?? null))`);
    expect(links).toEqual(['http://127.0.0.1:7071/dashboard/', 'http://10.0.0.5:7070/dashboard/', null]);
    // Each tile shows the storage its daemon announces, of its limit.
    for (const id of ids) {
      const cap = page.locator(`#cluster .daemon[data-peer="${id}"] .meta[data-limit="${512 * 1024 * 1024}"]`);
      await cap.waitFor({ timeout: 10_000 });
      expect(await cap.textContent()).toMatch(/^[\d.]+ (B|KiB|MiB) of 512\.0 MiB used/);
    }
    // The PAE panel: the shipped model's offline WAPE beside EWMA's and the best baseline's, per trace.
    const evalRow = page.locator('#pae table.eval tr[data-trace="worldcup98_day6_even"]');
    await evalRow.waitFor({ timeout: 10_000 });
    expect(await evalRow.locator('td').allTextContents()).toEqual([
      'worldcup98_day6_even',
      '0.301',
      '0.379',
      '0.336 (spar)',
      '70%',
    ]);
    // The layout panel has the guard's section (no DSM waves here: nothing judged yet).
    expect(await page.locator('#layout .body').textContent()).toMatch(
      /Guard events.*No judgements yet; 0 waves waiting/,
    );
    // A few polls in, still no error (the chart, the PAE and DSM panels have rendered by then).
    await page.waitForFunction(() => Number(document.body.dataset.ticks) >= 2, undefined, { timeout: 10_000 });
    expect(await page.locator('#conn').getAttribute('data-state')).toBe('ok');
    // uPlot is imported on first use: under load the chart can come a moment after the table.
    await page.locator('#moves-chart canvas').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('#moves-chart canvas').count()).toBe(1);
    await shot(page, 'dashboard-cluster.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('renders the heatmap after a short replay of a trace, forecast and observed per zone', {
    timeout: 60_000,
  }, async () => {
    // A trace of 600 reads of six keys over 60 s, in rounds of one read per key: zone b reads the first three
    // keys, zone c the others, and every third round comes from zone a. `shoal replay` sends it at 10× (6 s),
    // each read through the daemon of its origin's zone.
    const dir = tempDir('shoal-dash-trace-');
    const t0 = Date.UTC(2026, 0, 5, 9);
    const lines = Array.from({ length: 600 }, (_, i) => {
      const k = i % 6;
      const origin = Math.floor(i / 6) % 3 === 0 ? 'a' : k < 3 ? 'b' : 'c';
      return `${t0 + i * 100},hot/${k},r,${origin},64`;
    });
    const trace = join(dir, 'trace.csv');
    writeFileSync(trace, `ts_ms,key,op,origin,size\n${lines.join('\n')}\n`);
    const zones = join(dir, 'zones.json');
    writeFileSync(zones, JSON.stringify({ a: 'a', b: 'b', c: 'c' }));
    const cluster = c.daemons.map((d) => d.url).join(',');
    const replay = runShoal(
      [
        'replay',
        '--trace',
        trace,
        '--cluster',
        cluster,
        '--speedup',
        '10',
        '--level',
        'one',
        '--zones',
        zones,
        '--json',
      ],
      {},
      50_000,
    );
    const { page, errors } = await open(browser, c.daemons[0].url);
    await page.waitForFunction(
      () => [...document.querySelectorAll('#heatmap td.cell')].some((td) => Number(td.getAttribute('data-p')) > 0),
      undefined,
      { timeout: 40_000, polling: 500 },
    );
    // Observed shares come from the access statistics: wait for one non-empty "obs".
    await page.waitForFunction(
      () => [...document.querySelectorAll('#heatmap td.cell .obs')].some((s) => /\d%/.test(s.textContent ?? '')),
      undefined,
      { timeout: 15_000, polling: 500 },
    );
    const replayed = await replay;
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ sent: 600, stoppedBy: 'end' });
    const rows = await page.locator('#heatmap tr[data-key]').evaluateAll((trs) => trs.map((tr) => tr.dataset.key));
    expect(rows.filter((k) => k?.startsWith('hot/')).length).toBeGreaterThan(0);
    const cols = await page.locator('#heatmap thead th').allTextContents();
    for (const z of ZONES) expect(cols).toContain(z);
    // The forecast follows the trace: hot/0 is read from b twice as often as from a, never from c. (While the
    // replay runs the forecast lags it; after it, a PAE cycle or two over the whole of it.)
    const cells = () =>
      page
        .locator('#heatmap tr[data-key="hot/0"] td.cell')
        .evaluateAll((tds) => tds.map((td) => [td.getAttribute('data-zone'), Number(td.getAttribute('data-p'))]));
    let p0: Record<string, number> = {};
    expect(
      await eventually(async () => {
        p0 = Object.fromEntries(await cells());
        return p0.b > p0.a;
      }, 15_000),
      JSON.stringify(p0),
    ).toBe(true);
    expect(p0.a, JSON.stringify(p0)).toBeGreaterThan(0);
    expect(p0.c, JSON.stringify(p0)).toBe(0);
    await shot(page, 'dashboard-heatmap.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  let moved: { key: string; wave: string; coordinator: number };

  it('shows a migration made by a placement, in the table and the chart', { timeout: 45_000 }, async () => {
    const d0 = c.daemons[0];
    const key = 'moved/1';
    expect((await fetch(recordUrl(d0, key), { method: 'PUT', body: 'payload' })).ok).toBe(true);
    const before = (
      await adminGet<{ placement: { replicas: string[] } }>(d0, `/admin/records/${encodeURIComponent(key)}`)
    ).placement.replicas;
    const outsider = ids.find((id) => !before.includes(id))!;
    const r = await fetch(`${d0.url}/admin/records/${encodeURIComponent(key)}/placement`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replicas: [before[0], outsider], reason: 'dashboard test', force: true }),
    });
    expect(r.status, await r.clone().text()).toBe(200);
    const placed = await json<{ coordinator: string }>(r);
    // Moves are recorded by the daemon that coordinated them; the panel shows the cluster's, so open another.
    const coordinator = ids.indexOf(placed.coordinator);
    expect(coordinator).toBeGreaterThanOrEqual(0);
    const viewer = c.daemons[(coordinator + 1) % c.daemons.length];
    const { page, errors } = await open(browser, viewer.url);
    const row = page.locator(`#migrations table.moves tr[data-key="${key}"]`);
    await row.first().waitFor({ timeout: 15_000 });
    await page.locator(`#migrations table.moves tr[data-key="${key}"][data-state="done"]`).waitFor({ timeout: 15_000 });
    expect(await row.first().getAttribute('data-coordinator')).toBe(placed.coordinator);
    const text = await row.first().textContent();
    expect(text).toContain('replace');
    expect(text).toContain('manual');
    expect(text).toMatch(/→/);
    const wave = (await row.first().getAttribute('data-wave'))!;
    expect(wave).toMatch(/^m-/);
    // Every member answered the cluster query.
    expect(await page.locator('#migrations p[data-daemons="3"]').getAttribute('data-answered')).toBe('3');
    // The waves timeline: the wave of one move, done, its progress full, its bytes moved.
    const waveRow = page.locator(`#migrations table.waves tr[data-wave="${wave}"]`);
    await page
      .locator(`#migrations table.waves tr[data-wave="${wave}"][data-outcome="done"]`)
      .waitFor({ timeout: 10_000 });
    expect(await waveRow.getAttribute('data-moves')).toBe('1');
    expect(await waveRow.locator('.progress').getAttribute('data-progress')).toBe('1.00');
    const waveText = (await waveRow.textContent()) ?? '';
    expect(waveText).toContain('1: 1 done');
    // Bytes moved of the wave's bytes, as the coordinator recorded the move (a manual move records 0 bytes
    // today: the mover sizes only the DSM's moves).
    type Mv = { id: string; wave: string; bytes: number };
    const recorded = (await adminGet<{ history: Mv[] }>(c.daemons[coordinator], '/admin/migrations')).history.find(
      (m) => m.wave === wave,
    )!;
    expect(waveText).toContain(`${recorded.bytes} B of ${recorded.bytes} B`);
    // The chart counted it: the "started" series has a non-zero bucket.
    // uPlot is imported on first use: under load the chart can come a moment after the table.
    await page.locator('#moves-chart canvas').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('#moves-chart canvas').count()).toBe(1);
    await shot(page, 'dashboard-migrations.png');
    expect(errors).toEqual([]);
    await page.close();
    moved = { key, wave, coordinator };
  });

  it('switches the DSM policy and pauses and resumes it on every daemon', async () => {
    const d = c.daemons[0];
    type S = { policy: string; paused: boolean };
    const everywhere = (ok: (s: S) => boolean) =>
      eventually(async () => (await Promise.all(c.daemons.map((x) => adminGet<S>(x, '/admin/dsm')))).every(ok), 5_000);
    const { page, errors } = await open(browser, d.url);
    await page.locator('#dsm dl.kv').waitFor({ timeout: 10_000 });
    await page.selectOption('#dsm-policy', 'reactive');
    expect(await everywhere((s) => s.policy === 'reactive')).toBe(true);
    await page.locator('#dsm-toggle', { hasText: 'Pause' }).click();
    expect(await everywhere((s) => s.paused)).toBe(true);
    await page.locator('#dsm-toggle', { hasText: 'Resume' }).click();
    expect(await everywhere((s) => !s.paused)).toBe(true);
    await page.selectOption('#dsm-policy', 'off');
    expect(await everywhere((s) => s.policy === 'off')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('rolls a wave back from the layout panel, after a confirmation: a new epoch carries the rollback wave', {
    timeout: 45_000,
  }, async () => {
    expect(moved, 'the migration test ran first').toBeDefined();
    const d = c.daemons[moved.coordinator];
    const { page, errors } = await open(browser, d.url);
    const button = page.locator(`#layout button.rollback[data-wave="${moved.wave}"]`);
    await button.waitFor({ timeout: 15_000 });
    // Cancel first: nothing happens.
    await button.click();
    await page.locator('#confirm[open]').waitFor();
    expect(await page.locator('#confirm-wave').textContent()).toBe(moved.wave);
    await page.locator('#confirm button[value="cancel"]').click();
    expect(await page.locator('#rollback-result').isHidden()).toBe(true);
    await shot(page, 'dashboard-layout.png');
    // Then confirm.
    await button.click();
    await page.locator('#confirm[open]').waitFor();
    await shot(page, 'dashboard-rollback-dialog.png');
    await page.locator('#confirm-ok').click();
    const note = page.locator('#rollback-result[data-rollback-id]');
    await note.waitFor({ timeout: 35_000 });
    const rollbackId = (await note.getAttribute('data-rollback-id'))!;
    expect(await note.textContent()).toContain('1 record moving back');
    type E = { epochs: Array<{ wave?: string; reason: string }> };
    const epochs = async () => (await adminGet<E>(d, '/admin/layout/epochs?scope=all&limit=50')).epochs;
    expect(
      await eventually(async () => (await epochs()).some((e) => e.wave === rollbackId), 20_000),
      JSON.stringify(await epochs()),
    ).toBe(true);
    // The page shows it too, without a button of its own (a rollback is undone by rolling back its target).
    await page.locator(`#layout tr[data-wave="${rollbackId}"]`).first().waitFor({ timeout: 10_000 });
    expect(await page.locator(`#layout button.rollback[data-wave="${rollbackId}"]`).count()).toBe(0);
    // The undone wave is marked as such, its button gone.
    await page
      .locator(`#layout tr[data-wave="${moved.wave}"]`, { hasText: 'rolled back' })
      .first()
      .waitFor({ timeout: 10_000 });
    expect(await button.count()).toBe(0);
    expect(await page.locator('#dsm-toggle').textContent()).toBe('Resume');
    await shot(page, 'dashboard-rolled-back.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('asks for the admin token once when the daemon has one, and keeps it for the session', {
    timeout: 45_000,
  }, async () => {
    const dir = tempDir('shoal-dash-');
    const tokenFile = join(dir, 'admin.token');
    writeFileSync(tokenFile, 's3cret-token\n');
    tokenDaemon = await startDaemonProcess(['--admin-token-file', tokenFile, '--listen', '/ip4/127.0.0.1/tcp/0']);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${tokenDaemon.url}/dashboard`);
    await page.locator('#login:not([hidden])').waitFor({ timeout: 10_000 });
    await shot(page, 'dashboard-login.png');
    await page.fill('#token', 'wrong');
    await page.locator('#login button[type="submit"]').click();
    await page.locator('#login-why', { hasText: 'refused' }).waitFor({ timeout: 10_000 });
    await page.fill('#token', 's3cret-token');
    await page.locator('#login button[type="submit"]').click();
    await page.locator('#cluster .daemon').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('#login').isHidden()).toBe(true);
    // A reload keeps the token (sessionStorage): no form.
    await page.reload();
    await page.locator('#cluster .daemon').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('#login').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
