import { type ParseArgsConfig, parseArgs } from 'node:util';
import { isBrainmeshError } from '@brainmesh/shared';
import { type HubTarget, resolveTarget, UsageProblem } from './admin-client.js';

/**
 * The frame every operator command shares: flags (`--hub`, `--api-key`, `--json`, `--help` and
 * its own), actions with a fixed number of arguments, exit codes 0 ok, 1 failed, 2 bad usage,
 * and expected failures as one line on stderr.
 */

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface ActionContext {
  args: string[];
  flags: Record<string, string | boolean | string[] | undefined>;
  target(): HubTarget;
  /** Prints `value` as JSON under --json, `text` otherwise. */
  print(value: unknown, text: string): void;
}

export interface Action {
  /** Names of the positional arguments, for the usage check. */
  args: string[];
  run(ctx: ActionContext): Promise<void>;
}

export interface CommandSpec {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  actions: Record<string, Action>;
}

export async function runCommand(
  spec: CommandSpec,
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  io: Io,
): Promise<number> {
  const fail = (message: string, code: 1 | 2) => {
    io.err(`brainmesh ${spec.name}: ${message}\n${code === 2 ? `${spec.usage}\n` : ''}`);
    return code;
  };
  let parsed: { values: ActionContext['flags']; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...spec.options,
        hub: { type: 'string' },
        'api-key': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  if (parsed.values.help === true) {
    io.out(`${spec.usage}\n`);
    return 0;
  }
  const [name, ...args] = parsed.positionals;
  if (name === undefined) return fail('say what to do', 2);
  const action = spec.actions[name];
  if (action === undefined) return fail(`unknown action "${name}"`, 2);
  if (args.length < action.args.length) return fail(`${name} needs ${action.args.slice(args.length).join(' ')}`, 2);
  if (args.length > action.args.length) return fail(`unexpected argument "${args[action.args.length]}"`, 2);
  const json = parsed.values.json === true;
  try {
    await action.run({
      args,
      flags: parsed.values,
      target: () =>
        resolveTarget(
          { hub: parsed.values.hub as string | undefined, apiKey: parsed.values['api-key'] as string | undefined },
          env,
          process.cwd(),
        ),
      print: (value, text) => io.out(json ? `${JSON.stringify(value, null, 2)}\n` : text),
    });
    return 0;
  } catch (err) {
    if (err instanceof UsageProblem) return fail(err.message, 2);
    if (isBrainmeshError(err)) return fail(err.message, 1);
    throw err;
  }
}

/** Rows as aligned columns, the first row a header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
