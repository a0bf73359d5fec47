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
  /** For commands that stream (audit tail): stdout and stderr as they are. */
  io: Io;
  /** Exit 1 though the command worked: a check that found something wrong (`status`). */
  failed(): void;
}

export interface Action {
  /**
   * Names of the positional arguments, for the usage check. A last name ending in `...` takes
   * one or more words, joined by spaces (a search query).
   */
  args: string[];
  run(ctx: ActionContext): Promise<void>;
}

export interface CommandSpec {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Either actions (`nodes list`) or, for a command that does one thing, that one (`status`). */
  actions: Record<string, Action> | Action;
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
  let action: Action;
  let args = parsed.positionals;
  let what = spec.name;
  if (isAction(spec.actions)) {
    action = spec.actions;
  } else {
    const [name, ...rest] = args;
    if (name === undefined) return fail('say what to do', 2);
    const named = Object.hasOwn(spec.actions, name) ? spec.actions[name] : undefined;
    if (named === undefined) return fail(`unknown action "${name}"`, 2);
    [action, args, what] = [named, rest, name];
  }
  const wanted = action.args.length;
  const variadic = action.args[wanted - 1]?.endsWith('...') === true;
  if (args.length < wanted) return fail(`${what} needs ${action.args.slice(args.length).join(' ')}`, 2);
  if (variadic) args = [...args.slice(0, wanted - 1), args.slice(wanted - 1).join(' ')];
  else if (args.length > wanted) return fail(`unexpected argument "${args[wanted]}"`, 2);
  const json = parsed.values.json === true;
  let code = 0;
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
      io,
      failed: () => {
        code = 1;
      },
    });
    return code;
  } catch (err) {
    if (err instanceof UsageProblem) return fail(err.message, 2);
    if (isBrainmeshError(err)) return fail(err.message, 1);
    throw err;
  }
}

const isAction = (actions: CommandSpec['actions']): actions is Action =>
  Array.isArray(actions.args) && typeof actions.run === 'function';

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
