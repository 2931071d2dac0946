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
});
