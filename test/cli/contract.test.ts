/**
 * One contract for every command (DESIGN.md "The public contract"): under
 * --json, stdout carries exactly one JSON object — the result, or
 * {"error":{code,message,hint}} — exit 2 for every usage error (an unknown
 * flag, a bad value of any flag, a flag given twice, flags that conflict or
 * would be ignored), 1 for failures; stderr says it in one line and a hint,
 * in the CLI's words (flags, never the Action's inputs or the SDK's option
 * names). Table-driven: every command against every kind of error.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '@tuna-setup/sdk';
import { parse as parseYaml } from 'yaml';
import { runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('tuna-contract-');
let n = 0;
function home() {
  const h = path.join(dir, `h${n++}`);
  mkdirSync(h, { recursive: true });
  return {
    dir: h,
    env: {
      HOME: h,
      XDG_CONFIG_HOME: path.join(h, '.config'),
      XDG_STATE_HOME: path.join(h, '.local/state'),
      TUNA_SETUP_OFFLINE: '',
      HTTPS_PROXY: '',
      HTTP_PROXY: '',
      https_proxy: '',
      http_proxy: '',
    },
  };
}

function pipConf(h: Home, text: string) {
  mkdirSync(path.join(h.dir, '.config/pip'), { recursive: true });
  writeFileSync(path.join(h.dir, '.config/pip/pip.conf'), text);
}

type Home = ReturnType<typeof home>;
type Row = [command: string, kind: string, args: string[], exit: 1 | 2, code: string, stderr: RegExp, setup?: (h: Home) => unknown];

const ROWS: Row[] = [
  // an unknown flag, a missing value, a flag given twice: every command
  ...['apply', 'restore', 'select', 'resolve', 'doctor', 'run'].map((c) => [c, 'unknown flag', ['--nope'], 2, 'USAGE', /Unknown option '--nope'/] as Row),
  ['apply', 'flag given twice', ['--mirror', 'tuna', '--mirror', 'ustc'], 2, 'USAGE', /--mirror is given more than once/],
  ['restore', 'flag given twice', ['--state-dir', 'a', '--state-dir', 'b'], 2, 'USAGE', /--state-dir is given more than once/],
  ['select', 'flag given twice', ['--service', 'pypi', '--service', 'conda'], 2, 'USAGE', /--service is given more than once/],
  ['resolve', 'flag given twice', ['--torch', '2.7', '--torch', '2.8'], 2, 'USAGE', /--torch is given more than once/],
  ['doctor', 'flag given twice', ['--sysroot', '/', '--sysroot', '/tmp'], 2, 'USAGE', /--sysroot is given more than once/],
  ['run', 'flag given twice', ['--gpus', 'all', '--gpus', 'none', '--', 'true'], 2, 'USAGE', /--gpus is given more than once/],
  ['apply', 'missing value', ['--mirror'], 2, 'USAGE', /--mirror/],

  // a value no command can use
  ['apply', 'unknown target', ['--mirror', 'tuna', '--targets', 'npm'], 2, 'BAD_TARGET', /unknown target 'npm'/],
  ['apply', 'unknown mirror', ['--mirror', 'tsinghua'], 2, 'UNKNOWN_MIRROR', /unknown mirror 'tsinghua'\nhint: use one of: .*tuna/],
  [
    'apply',
    'http without the opt-in',
    ['--mirror', 'http://mirror.example/simple'],
    2,
    'INSECURE_URL',
    /--mirror: 'http:\/\/mirror.example\/simple' is plain http\nhint: .*--allow-http/,
  ],
  ['apply', 'bad session', ['--mirror', 'tuna', '--session', 'a b'], 2, 'USAGE', /--session 'a b' is not a name/],
  ['restore', 'bad session', ['--session', '../x'], 2, 'USAGE', /--session '..\/x' is not a name/],
  ['select', 'unknown service', ['--service', 'npm'], 2, 'BAD_SERVICE', /unknown service 'npm'/],
  ['select', 'bad budget', ['--budget-ms', 'soon'], 2, 'USAGE', /--budget-ms 'soon' is not a positive whole number/],
  ['resolve', 'malformed torch', ['--torch', 'abc', '--driver', 'none'], 2, 'BAD_TORCH_SPEC', /torch 'abc' is not a version/],
  ['resolve', 'unknown torch', ['--torch', '3.0', '--driver', 'none'], 2, 'UNKNOWN_TORCH', /torch 3\.0 is not in tuna-setup's tables/],
  [
    'resolve',
    'unknown cuda',
    ['--cuda', '99', '--driver', '570.172.08', '--offline'],
    2,
    'BAD_CUDA',
    /--cuda '99' is not auto, X\.Y or cpu\nhint: e\.g\. --cuda 12\.8/,
  ],
  ['resolve', 'bad source', ['--source', 'quay'], 2, 'USAGE', /--source 'quay' is not one of/],
  ['run', 'bad gpus', ['--gpus', 'foo', '--image', 'busybox', '--', 'true'], 2, 'BAD_GPUS', /--gpus 'foo' is not all, none or a count/],
  ['run', 'bad pull', ['--pull', 'sometimes', '--image', 'busybox', '--', 'true'], 2, 'BAD_PULL', /--pull 'sometimes' is not missing, always or never/],
  ['run', 'a flag as the image', ['--image=--help', '--', 'true'], 2, 'BAD_IMAGE', /--image '--help' is not an image reference/],
  ['run', 'no command', ['--image', 'busybox'], 2, 'USAGE', /give the command after --/],

  // flags that conflict, or that this combination would silently ignore
  [
    'apply',
    'docker flags without the docker target',
    ['--mirror', 'tuna', '--docker-mirror', 'https://docker.example.com'],
    2,
    'USAGE',
    /--docker-mirror is only used with docker, containerd, podman or buildkit in --targets/,
  ],
  [
    'apply',
    'a pip path without pip',
    ['--mirror', 'tuna', '--targets', 'uv', '--pip-config', 'pip.conf'],
    2,
    'USAGE',
    /--pip-config is only used with pip in --targets/,
  ],
  [
    'apply',
    'a pid file without --reload-docker',
    ['--mirror', 'tuna', '--targets', 'docker', '--docker-mirror', 'https://d.example.com', '--docker-pidfile', '/run/d.pid'],
    2,
    'USAGE',
    /--docker-pidfile is only used with --reload-docker/,
  ],
  [
    'apply',
    'selection flags with a named mirror',
    ['--mirror', 'tuna', '--budget-ms', '500', '--fresh'],
    2,
    'USAGE',
    /--budget-ms, --fresh are only used when --mirror is auto/,
  ],
  [
    'apply',
    'docker reload in a dry run',
    ['--mirror', 'tuna', '--targets', 'docker', '--docker-mirror', 'https://d.example.com', '--reload-docker', '--dry-run'],
    2,
    'USAGE',
    /--reload-docker is only used when files are written/,
  ],
  ['restore', '--all with --session', ['--all', '--session', 's1'], 2, 'USAGE', /--session is only used without --all/],
  ['select', 'a project for conda', ['--service', 'conda', '--project', 'numpy'], 2, 'USAGE', /--project is only used with --service pypi/],
  ['resolve', 'GPUs without a driver', ['--driver', 'none', '--gpu-cc', '8.6'], 2, 'USAGE', /--gpu-cc is only used with a driver/],
  [
    'resolve',
    'GPUs on a machine with no driver',
    ['--gpu-cc', '8.6', '--sysroot', '/nonexistent', '--offline'],
    2,
    'USAGE',
    /--gpu-cc 8\.6 was given, but this machine has no NVIDIA driver.*\nhint: .*--driver VER/,
  ],
  ['run', 'resolve flags with an explicit image', ['--image', 'busybox', '--torch', '2.7', '--', 'true'], 2, 'USAGE', /--torch is only used with --image auto/],
  [
    'run',
    'a workdir that does not exist',
    ['--image', 'busybox', '--workdir', '/nonexistent', '--', 'true'],
    2,
    'BAD_WORKDIR',
    /--workdir \/nonexistent does not exist/,
  ],
  [
    'resolve',
    'a state dir nothing uses',
    ['--state-dir', '/tmp/x', '--driver', 'none', '--offline'],
    2,
    'USAGE',
    /--state-dir is only used with --wheel-mirror/,
  ],

  // failures: exit 1
  ['restore', 'no journal', [], 1, 'JOURNAL_MISSING', /no journal in .*\nhint: pass the --state-dir used for apply/],
  [
    'restore',
    'another session',
    ['--session', 'other'],
    1,
    'JOURNAL_MISSING',
    /nothing in .* was applied by session 'other' \(it holds: cli\)\nhint: restore that --session, or --all/,
    // a journal that holds only the CLI's session
    async (h) =>
      expect((await runCliAsync(['apply', '--mirror', 'tuna', '--targets', 'pip', '--pip-config', path.join(h.dir, 'pip.conf')], h.env)).code).toBe(0),
  ],
  [
    'apply',
    'a broken config',
    ['--mirror', 'tuna', '--targets', 'pip'],
    1,
    'PARSE_ERROR',
    /pip\.conf:3/,
    (h) => pipConf(h, '[global]\nindex-url = https://pypi.org/simple\n[global]\n'),
  ],
  [
    'apply',
    'a private index',
    ['--mirror', 'tuna', '--targets', 'pip'],
    1,
    'PRIVATE_INDEX',
    /uses an index tuna-setup does not know: https:\/\/pkgs\.corp\.example\/simple\nhint: .*pass --replace-index if you mean it, or drop this tool from --targets/,
    (h) => pipConf(h, '[global]\nindex-url = https://pkgs.corp.example/simple\n'),
  ],
  [
    'apply',
    'a dockerd that is not there to reload',
    [
      '--mirror',
      'tuna',
      '--targets',
      'docker',
      '--docker-mirror',
      'https://d.example.com',
      '--docker-config',
      'daemon.json',
      '--reload-docker',
      '--docker-pidfile',
      '/nonexistent/docker.pid',
    ],
    1,
    'RELOAD_FAILED',
    /cannot read dockerd's pid file/,
  ],
  [
    'select',
    'no healthy mirror',
    ['--candidate', 'dead=https://127.0.0.1:1/simple', '--budget-ms', '1500', '--fresh'],
    1,
    'NO_HEALTHY_MIRROR',
    /no healthy pypi mirror among 1 candidates/,
  ],
  [
    'run',
    'no docker to run in',
    ['--image', 'busybox', '--gpus', 'none', '--', 'true'],
    1,
    'RUN_FAILED',
    /Docker is not usable/,
    (h) => Object.assign(h.env, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }),
  ],
  ['resolve', 'a registry that cannot be reached', ['--driver', 'none', '--registry-mirror', '127.0.0.1:1'], 1, 'REGISTRY', /127\.0\.0\.1:1/],
];

describe('every command, every error kind: one JSON object on stdout, the right exit code', () => {
  it.each(ROWS)('%s: %s', async (command, _kind, args, exit, code, stderr, setup) => {
    const h = home();
    await setup?.(h);
    const dash = args.indexOf('--');
    const withJson = dash === -1 ? [...args, '--json'] : [...args.slice(0, dash), '--json', ...args.slice(dash)];
    const r = await runCliAsync([command, ...withJson], h.env, h.dir);
    expect(r.code, r.stderr).toBe(exit);
    const out = r.json(); // throws unless stdout is exactly one JSON document
    expect(out.error).toMatchObject({ code, message: expect.any(String), hint: expect.any(String) });
    expect(`${out.error.message}\n${out.error.hint}`).not.toMatch(/[{}]/); // no template left
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr).toMatch(/^tuna-setup: .*\nhint: /m);
    // the same error without --json: the same exit code, and no JSON
    const plain = await runCliAsync([command, ...args], h.env, h.dir);
    expect(plain.code).toBe(exit);
    expect(plain.stdout).not.toMatch(/^\s*\{/);
  });

  it('a failure that carries context puts it beside the error: select prints its ranking', async () => {
    const r = await runCliAsync(['select', '--candidate', 'dead=https://127.0.0.1:1/simple', '--budget-ms', '1500', '--fresh', '--json'], home().env);
    expect(r.code).toBe(1);
    const out = r.json();
    expect(out.error.code).toBe('NO_HEALTHY_MIRROR');
    expect(out.ranking).toEqual([expect.objectContaining({ name: 'dead', ok: false })]);
    expect(out.error.fixes).toEqual([{ option: 'budgetMs', flag: '--budget-ms', input: 'probe-budget-ms' }]);
  });
});

describe('the settings errors name exist in each front end', () => {
  const cliHelp = async () => (await runCliAsync(['--help'])).stdout;
  const inputs = Object.keys((parseYaml(readFileSync(path.resolve(import.meta.dirname, '../../action.yml'), 'utf8')) as { inputs: object }).inputs);
  it('every flag is one the CLI takes, every input one action.yml has', async () => {
    const help = await cliHelp();
    for (const [option, s] of Object.entries(SETTINGS)) {
      if (s.flag) expect(help, `${option} → ${s.flag}`).toContain(s.flag);
      if (s.input) expect(inputs, `${option} → ${s.input}`).toContain(s.input);
    }
  });
});

describe('help and version under --json are JSON too', () => {
  it.each([[['--version', '--json']], [['--help', '--json']], [['--json']], [['apply', '--help', '--json']], [['run', '--help', '--json']]])(
    '%j',
    async (args) => {
      const r = await runCliAsync(args);
      expect(r.code).toBe(0);
      expect(Object.keys(r.json())).toEqual([args[0] === '--version' ? 'version' : 'usage']);
    },
  );
});
