/**
 * How the real commander program hands commands to exec/join/logs/new
 * (`--` handling, `--oci` optional value). The engine is replaced by fakes
 * that record their arguments; nothing runs.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const calls: { fn: string; name: string; cmd: readonly string[]; opts?: unknown }[] = [];

vi.mock('../../src/engine/containers/exec.js', () => ({
  execInContainer: async (_ctx: unknown, name: string, cmd: readonly string[], opts: unknown) => {
    calls.push({ fn: 'exec', name, cmd, opts });
    return 0;
  },
  joinContainer: async (_ctx: unknown, name: string, cmd: readonly string[]) => {
    calls.push({ fn: 'join', name, cmd });
    return 0;
  },
  containerLogs: async (_ctx: unknown, name: string, args: readonly string[]) => {
    calls.push({ fn: 'logs', name, cmd: args });
    return 0;
  },
}));
vi.mock('../../src/engine/catalogue/container-state.js', async (orig) => ({
  ...(await orig<object>()),
  resolveName: async (_l: unknown, input: string) => `${input}`,
}));
vi.mock('../../src/engine/systemd/dbus.js', () => ({
  SystemdClient: { connect: async () => ({ machineState: async () => 'running', close: () => {} }) },
}));

const { buildProgram } = await import('../../src/cli/main.js');
const { afterDashDash } = await import('../../src/cli/containers.js');

async function parse(args: string[]): Promise<{ error?: string }> {
  const { program } = buildProgram(new AbortController().signal);
  for (const c of [program, ...program.commands]) {
    c.exitOverride();
    c.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  }
  try {
    await program.parseAsync(['--config', '/nonexistent/sdme.conf', ...args], { from: 'user' });
    return {};
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('afterDashDash', () => {
  it.each([
    [['--', 'ls', '-l'], ['ls', '-l']],
    [['ls', '--', '-l'], ['ls', '--', '-l']],
    [['--', '--', 'x'], ['--', 'x']],
    [['--'], []],
    [[], []],
  ])('%j -> %j', (input, out) => {
    expect(afterDashDash(input)).toEqual(out);
  });
});

describe('command parsing with fake engine calls', () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it.each([
    [['exec', 'web', 'ls', '-l'], 'web', ['ls', '-l']],
    [['exec', 'web', '--', 'ls', '-l'], 'web', ['ls', '-l']],
    [['exec', 'web', 'sh', '-c', 'echo -- x'], 'web', ['sh', '-c', 'echo -- x']],
    [['exec', 'web', '--', 'env', '--', 'ls'], 'web', ['env', '--', 'ls']],
    [['exec', 'web', 'ls', '--user', 'bob'], 'web', ['ls', '--user', 'bob']],
    [['join', 'web', '--', 'hostname'], 'web', ['hostname']],
    [['join', 'web', 'hostname', '-f'], 'web', ['hostname', '-f']],
    [['join', 'web'], 'web', []],
    [['logs', 'web', '--', '-f'], 'web', ['-f']],
    [['logs', 'web', '--no-pager', '-n', '5'], 'web', ['--no-pager', '-n', '5']],
  ])('%j', async (argv, name, cmd) => {
    expect(await parse(argv)).toEqual({});
    expect(calls.map((c) => [c.fn, c.name, c.cmd])).toEqual([[argv[0], name, cmd]]);
  });

  it('exec passes --user given before NAME', async () => {
    expect(await parse(['exec', '--user', 'bob', 'web', '--', 'id'])).toEqual({});
    expect(calls).toEqual([{ fn: 'exec', name: 'web', cmd: ['id'], opts: { user: 'bob' } }]);
  });

  it.each([
    [['exec', 'web', '--']],
    [['exec', 'web']],
  ])('exec without a command is refused: %j', async (argv) => {
    expect((await parse(argv)).error).toMatch(/command|missing required argument 'cmd'/);
    expect(calls).toEqual([]);
  });

  it.each([
    [['exec', '--oci', '--', 'web', 'ls']],
    [['exec', '--oci', 'nginx', 'web', 'ls']],
    [['join', '--oci', '--', 'web']],
    [['logs', '--oci', 'app', 'web']],
  ])('--oci parses with its optional value and is refused as unsupported: %j', async (argv) => {
    expect((await parse(argv)).error).toBe('--oci: OCI app containers are not supported by this sdme yet');
    expect(calls).toEqual([]);
  });
});

describe('execFailureNote', () => {
  it.each([
    [203, undefined, "error: cannot execute '/no/cmd' in 'web': not found or not executable (exit status 203/EXEC)"],
    [217, 'bob', "error: cannot run as user 'bob' in 'web': no such user in the container (exit status 217/USER)"],
    [217, undefined, undefined],
    [0, 'bob', undefined],
    [1, undefined, undefined],
  ])('exit %i (user %s)', async (code, uid, want) => {
    const { execFailureNote } = await vi.importActual<typeof import('../../src/engine/containers/exec.js')>(
      '../../src/engine/containers/exec.js',
    );
    expect(execFailureNote(code, 'web', ['/no/cmd', 'x'], uid)).toBe(want);
  });
});
