import { parseArgs } from 'node:util';
import { errorCatalogueMarkdown } from '../../src/api/index.ts';
import { ERROR_CATALOGUE } from '../../src/errors/index.ts';
import { optionsTable } from '../options.ts';
import { HELP_OPTION } from '../usage.ts';

const USAGE = `usage: shoal errors [--markdown | --options]
  prints the error catalogue as JSON (code → HTTP status, description);
  --markdown as the README's error table, --options the README's settings table
`;

/** `shoal errors [--markdown]` prints the error catalogue; `--options` prints the settings table (README). */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { markdown: { type: 'boolean' }, options: { type: 'boolean' }, ...HELP_OPTION },
  });
  if (values.help) process.stdout.write(USAGE);
  else if (values.options) process.stdout.write(`${optionsTable('markdown')}\n`);
  else if (values.markdown) process.stdout.write(`${errorCatalogueMarkdown()}\n`);
  else process.stdout.write(`${JSON.stringify(ERROR_CATALOGUE, null, 2)}\n`);
  return 0;
}
