import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('npm ci on a fresh machine', () => {
  it('runs no download from outside the npm registry, and warns about nothing', () => {
    const pkg = JSON.parse(read('package.json')) as { allowScripts?: Record<string, boolean> };
    // onnxruntime-node's postinstall fetches CUDA libraries from NuGet (fails offline, and is unused here).
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
    // Every dependency with an install script is reviewed, so npm prints no install-scripts notice.
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.filter((name) => pkg.allowScripts?.[name] === undefined)).toEqual([]);
    // npm warns on every command about a key it does not know in the project's .npmrc.
    const keys = read('.npmrc')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith(';'))
      .map((l) => l.split('=')[0].trim());
    expect(keys.filter((k) => !['fund', 'audit'].includes(k))).toEqual([]);
  });
});
