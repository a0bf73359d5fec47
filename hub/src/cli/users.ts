import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { adminRequest, UsageProblem } from './admin-client.js';
import { type CommandSpec, type Io, runCommand } from './command.js';

export const USERS_USAGE = `usage: brainmesh users create NAME [--scope SCOPE…] [flags]

  create NAME    an operator account that can sign in on the hub's OAuth page and allow
                 applications such as Claude Desktop; the password is read from standard
                 input (piped), or asked for without echo on a terminal

flags:
  --scope SCOPE    what the account may grant (default: admin); repeatable
  --hub URL        the hub (default $BRAINMESH_HUB, else http://127.0.0.1:8080)
  --api-key KEY    an admin key (default $BRAINMESH_API_KEY, else the local operator key)
  --json           print JSON instead of text

example: brainmesh users create ana --scope admin`;

/** The password: a line from a pipe, or typed at a prompt that shows nothing. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    return text.replace(/\r?\n$/, '');
  }
  process.stderr.write('Password: ');
  const silent = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  const password = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return password;
}

export const usersSpec: CommandSpec = {
  name: 'users',
  usage: USERS_USAGE,
  options: { scope: { type: 'string', multiple: true } },
  actions: {
    create: {
      args: ['NAME'],
      run: async ({ args: [username], flags, target, print }) => {
        const password = await readPassword();
        if (password.length < 12) throw new UsageProblem('the password needs at least 12 characters');
        const scopes = (flags.scope as string[] | undefined) ?? ['admin'];
        const made = await adminRequest<{ username: string; scopes: string[] }>(target(), 'POST', '/admin/users', {
          username,
          password,
          scopes,
        });
        print(made, `operator ${made.username} created (${made.scopes.join(', ')})\n`);
      },
    },
  },
};

export const usersCommand = (argv: string[], env: Readonly<Record<string, string | undefined>>, io: Io) =>
  runCommand(usersSpec, argv, env, io);
