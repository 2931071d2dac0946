import { errorCatalogueMarkdown } from '../../src/api/index.ts';
import { ERROR_CATALOGUE } from '../../src/errors/index.ts';
import { optionsTable } from '../options.ts';

/** `shoal errors [--markdown]` prints the error catalogue; `--options` prints the settings table (README). */
export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--options')) process.stdout.write(`${optionsTable('markdown')}\n`);
  else if (argv.includes('--markdown')) process.stdout.write(`${errorCatalogueMarkdown()}\n`);
  else process.stdout.write(`${JSON.stringify(ERROR_CATALOGUE, null, 2)}\n`);
  return 0;
}
