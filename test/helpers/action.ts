/**
 * Runs the bundled Action (dist/) as a runner runs it: every input of
 * action.yml as INPUT_<NAME> with its default unless given, the runner's
 * files (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE, GITHUB_PATH,
 * GITHUB_STEP_SUMMARY) in a temp dir, RUNNER_* variables; then the post step
 * with the state back as STATE_<name>. Outputs are parsed from the
 * `name<<DELIMITER` blocks the toolkit writes.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { tempDir } from './tmp.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const action = parseYaml(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  runs: { main: string; post: string };
};

export interface StepResult {
  code: number;
  log: string;
  outputs: Record<string, string>;
  env: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  /** lines added to PATH */
  path: string[];
}

export interface Runner {
  dir: string;
  workspace: string;
  home: string;
  /** the env every step of this job gets */
  baseEnv: NodeJS.ProcessEnv;
  main: (inputs?: Record<string, string>, env?: NodeJS.ProcessEnv, onSpawn?: (child: ChildProcess) => void) => Promise<StepResult>;
  post: (main: StepResult, inputs?: Record<string, string>, env?: NodeJS.ProcessEnv) => Promise<StepResult>;
}

/** `a<<DELIM\nvalue\nDELIM` and `a=b` lines, as @actions/core writes them */
export function parseRunnerFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^=<]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const end = lines.indexOf(m[2]!, i + 1);
      out[m[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i]!.includes('=')) {
      const [k, ...v] = lines[i]!.split('=');
      out[k!] = v.join('=');
    }
  }
  return out;
}

/** A runner of its own; `home` shares another runner's HOME (runner processes of one user on one machine). */
export function newRunner(kind: 'github-hosted' | 'self-hosted' = 'github-hosted', options: { home?: string } = {}): Runner {
  const dir = tempDir('tuna-runner-');
  const workspace = path.join(dir, 'workspace');
  const home = options.home ?? path.join(dir, 'home');
  for (const d of [workspace, home, path.join(dir, 'temp'), path.join(dir, 'toolcache')]) mkdirSync(d, { recursive: true });
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(INPUT_|STATE_|GITHUB_|RUNNER_|PIP_|UV_|CONDARC|ACTIONS_)/.test(k)));
  const baseEnv: NodeJS.ProcessEnv = {
    ...clean,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    RUNNER_ENVIRONMENT: kind,
    RUNNER_TEMP: path.join(dir, 'temp'),
    RUNNER_TOOL_CACHE: path.join(dir, 'toolcache'),
    RUNNER_OS: 'Linux',
    GITHUB_WORKSPACE: workspace,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    TUNA_SETUP_OFFLINE: '',
  };
  let n = 0;
  async function step(
    script: string,
    inputs: Record<string, string>,
    env: NodeJS.ProcessEnv,
    state: Record<string, string>,
    onSpawn?: (child: ChildProcess) => void,
  ): Promise<StepResult> {
    const files = Object.fromEntries(
      ['OUTPUT', 'ENV', 'STATE', 'PATH', 'STEP_SUMMARY'].map((f) => {
        const p = path.join(dir, `${f.toLowerCase()}-${n}`);
        writeFileSync(p, '');
        return [`GITHUB_${f}`, p];
      }),
    );
    n++;
    const inputEnv: Record<string, string> = {};
    // the runner evaluates expression defaults: ${{ github.token }} is the job's token
    const dflt = (d: string | undefined) => (d && /^\$\{\{\s*github\.token\s*\}\}$/.test(d) ? 'ghs_emulatedJobToken0123456789' : (d ?? ''));
    for (const [name, spec] of Object.entries(action.inputs)) inputEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = inputs[name] ?? dflt(spec.default);
    for (const name of Object.keys(inputs)) if (!(name in action.inputs)) throw new Error(`action.yml has no input '${name}'`);
    const stateEnv = Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
    const childEnv = { ...baseEnv, ...env, ...inputEnv, ...stateEnv, ...files };
    const { code, log } = await new Promise<{ code: number; log: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [path.join(ROOT, script)],
        { env: childEnv, cwd: workspace, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, log: stdout + stderr });
        },
      );
      onSpawn?.(child);
    });
    const read = (k: string) => readFileSync(files[k]!, 'utf8');
    return {
      code,
      log,
      outputs: parseRunnerFile(read('GITHUB_OUTPUT')),
      env: parseRunnerFile(read('GITHUB_ENV')),
      state: parseRunnerFile(read('GITHUB_STATE')),
      summary: read('GITHUB_STEP_SUMMARY'),
      path: read('GITHUB_PATH').split('\n').filter(Boolean),
    };
  }
  return {
    dir,
    workspace,
    home,
    baseEnv,
    main: (inputs = {}, env = {}, onSpawn) => step(action.runs.main, inputs, env, {}, onSpawn),
    post: (main, inputs = {}, env = {}) => step(action.runs.post, inputs, { ...main.env, ...env }, main.state),
  };
}
