/**
 * `--help` / `-h` for commands with subcommands: every command and subcommand answers them with its usage on
 * stdout and exit code 0 (the `dsm` and `migrations` commands do the same through `parseCommand`).
 */

/** The `parseArgs` option that every command accepts. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** A usage text: the line of `sub` when it is one of `lines`, else every line. */
export const subUsage = (lines: Record<string, string>, sub?: string): string =>
  `usage:\n${sub && lines[sub] ? lines[sub] : Object.values(lines).join('')}`;

/** Prints the usage of `sub` and answers true when `--help` was given. */
export function printedHelp(lines: Record<string, string>, sub: string, values: { help?: boolean }): boolean {
  if (values.help) process.stdout.write(subUsage(lines, sub));
  return values.help === true;
}

/**
 * The value of a flag that has an older name too (`--stats-bucket-ms`, once `--bucket-ms`; `--window`, once
 * `--window-ms`): the new name when given, else the old one, which keeps working for scripts written against it.
 */
export function renamedFlag<V extends Record<string, unknown>>(
  values: V,
  name: keyof V,
  old: keyof V,
): string | undefined {
  const v = values[name] ?? values[old];
  return typeof v === 'string' ? v : undefined;
}
