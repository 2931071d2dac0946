import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { optionsTable } from '../../node/options.ts';
import { errorCatalogueMarkdown } from '../../src/api/index.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('starts with the two commands that work on a fresh machine', () => {
    const head = readme.slice(0, 1500);
    expect(head).toContain('npm ci && npm start');
    expect(head).toContain('npm ci && npm test');
  });

  it('documents every setting and every error code exactly as the code defines them', () => {
    // Regenerate with: npx shoal errors --options  /  npx shoal errors --markdown
    expect(readme).toContain(optionsTable('markdown'));
    expect(readme).toContain(errorCatalogueMarkdown());
  });

  it('has git ignore what its walk-through creates in the checkout', () => {
    const root = new URL('../..', import.meta.url).pathname;
    const created = ['data/level/CURRENT', 'cluster.key', 'd1/peer.key', 'd2/peer.key', 'd3/peer.key', 'photo.jpg'];
    // pae-eval/: where `shoal pae eval` writes its report; data/cluster: `npm run cluster`.
    created.push('copy.jpg', 'pae-eval/nasa_jul95_3h.md', 'data/cluster/d1.log');
    const git = spawnSync('git', ['check-ignore', '--stdin', '--non-matching', '--verbose'], {
      cwd: root,
      input: created.join('\n'),
      encoding: 'utf8',
    });
    if (git.error) return; // no git here (an unpacked archive): nothing to ignore
    // --non-matching --verbose prints '::\t<path>' for every path no rule ignores.
    expect(git.stdout.split('\n').filter((l) => l.startsWith('::'))).toEqual([]);
  });
});
