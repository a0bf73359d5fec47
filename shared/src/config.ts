import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { BrainmeshError } from './errors.js';

/**
 * Config is read once at start-up: a YAML file, then environment overrides, then zod. The result
 * is deeply frozen. Nothing else in brainmesh reads process.env; processes pass the env in.
 */

export const logConfigSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `auto` is pretty on a terminal and JSON everywhere else. */
    format: z.enum(['json', 'pretty', 'auto']).default('auto'),
  })
  .strict();

export const storageConfigSchema = z
  .object({
    /** Real Postgres. Without it, embedded Postgres (PGlite) runs in the data folder. */
    databaseUrl: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    /** Real Redis. Without it, an in-process store serves a single process. */
    redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
  })
  .strict();

/** The part every brainmesh process shares; hub and node configs extend it. */
export const baseConfigSchema = z
  .object({
    /** Data folder: keys, embedded database, local state. Relative paths are from the working directory. */
    home: z.string().min(1).default('.brainmesh'),
    storage: storageConfigSchema.default({}),
    log: logConfigSchema.default({ level: 'info', format: 'auto' }),
    /**
     * Prometheus metrics (`/metrics`): counted unless `enabled` is false (BRAINMESH_METRICS=false).
     * On a listener of their own, with no credentials, when `port` is given (0: any free port): so
     * it is on loopback unless `host` says otherwise. The hub serves them on its own port as well,
     * to the admin scope; a node on its own, to loopback clients.
     */
    metrics: z
      .object({
        enabled: z.boolean().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).optional(),
      })
      .strict()
      .refine((m) => m.enabled || m.port === undefined, {
        path: ['port'],
        message: 'a metrics listener needs metrics.enabled (it is turned off)',
      })
      .default({ enabled: true, host: '127.0.0.1' }),
  })
  .strict();

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** Where an environment variable lands in the config, and how its text is read. */
export interface EnvOverride {
  path: readonly string[];
  type: 'string' | 'port' | 'boolean';
}

export const baseEnvOverrides: Readonly<Record<string, EnvOverride>> = {
  DATABASE_URL: { path: ['storage', 'databaseUrl'], type: 'string' },
  REDIS_URL: { path: ['storage', 'redisUrl'], type: 'string' },
  BRAINMESH_HOME: { path: ['home'], type: 'string' },
  BRAINMESH_LOG_LEVEL: { path: ['log', 'level'], type: 'string' },
  BRAINMESH_LOG_FORMAT: { path: ['log', 'format'], type: 'string' },
  BRAINMESH_METRICS: { path: ['metrics', 'enabled'], type: 'boolean' },
  BRAINMESH_METRICS_PORT: { path: ['metrics', 'port'], type: 'port' },
};

export interface LoadConfigOptions<S extends z.ZodType> {
  schema: S;
  /** YAML file; when absent the config is built from defaults and the environment alone. */
  file?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  envOverrides?: Readonly<Record<string, EnvOverride>>;
  /** Applied last, e.g. from command-line flags. */
  overrides?: Record<string, unknown>;
}

type Source = { kind: 'file'; file: string } | { kind: 'env'; name: string } | { kind: 'default' };

export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): Readonly<z.output<S>> {
  const env = options.env ?? {};
  const raw: Record<string, unknown> = options.file === undefined ? {} : readYaml(options.file);
  // Each field set from the environment is remembered so an error can name the variable.
  const fromEnv = new Map<string, string>();
  for (const [name, override] of Object.entries(options.envOverrides ?? baseEnvOverrides)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    setPath(raw, override.path, readEnvValue(name, text, override));
    fromEnv.set(override.path.join('.'), name);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, key.split('.'), value);
  }

  const parsed = options.schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? '(top level)' : issue.path.join('.');
    const envName = fromEnv.get(field);
    const source: Source =
      envName !== undefined
        ? { kind: 'env', name: envName }
        : options.file !== undefined
          ? { kind: 'file', file: options.file }
          : { kind: 'default' };
    const where =
      source.kind === 'env' ? `environment variable ${source.name}` : source.kind === 'file' ? source.file : 'config';
    const message = `${where}: ${field}: ${issue?.message ?? 'invalid'}`;
    throw new BrainmeshError('CONFIG_INVALID', message, {
      details: { file: options.file, field, expected: issue?.message },
    });
  }
  return deepFreeze(parsed.data) as Readonly<z.output<S>>;
}

function readYaml(file: string): Record<string, unknown> {
  if (!existsSync(file)) {
    throw new BrainmeshError('CONFIG_NOT_FOUND', `${file}: no such config file`, { details: { file } });
  }
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0];
    const at = line === undefined ? '' : ` (line ${line.line}, column ${line.col})`;
    throw new BrainmeshError('CONFIG_INVALID', `${file}: not valid YAML${at}: ${first.message.split('\n')[0]}`, {
      details: { file },
    });
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new BrainmeshError('CONFIG_INVALID', `${file}: (top level): expected a mapping of settings`, {
      details: { file },
    });
  }
  return value as Record<string, unknown>;
}

function readEnvValue(name: string, text: string, override: EnvOverride): unknown {
  if (override.type === 'string') return text;
  if (override.type === 'boolean') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw new BrainmeshError(
      'CONFIG_INVALID',
      `environment variable ${name}: ${override.path.join('.')}: expected true or false, got "${text}"`,
      { details: { field: override.path.join('.'), env: name } },
    );
  }
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new BrainmeshError(
      'CONFIG_INVALID',
      `environment variable ${name}: ${override.path.join('.')}: expected a port number from 0 to 65535, got "${text}"`,
      { details: { field: override.path.join('.'), env: name } },
    );
  }
  return port;
}

function setPath(target: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let node = target;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The data folder as an absolute path. */
export function resolveHome(config: Pick<BaseConfig, 'home'>, cwd: string = process.cwd()): string {
  return path.resolve(cwd, config.home);
}

export interface SectionOptions<S extends z.ZodType> {
  schema: S;
  /** The block as the file holds it (undefined when the file has none). */
  raw: unknown;
  /** Where the block sits in the config, for errors: `packs[0] (medtainer).settings`. */
  label: string;
  /** The config file, for errors; absent when the config came from defaults and the environment. */
  file?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  /** Environment variables that set a field of the block, to the field's dotted path in it. */
  envOverrides?: Readonly<Record<string, string>>;
}

/**
 * One block of a config validated by a schema that is not the config's own (a pack's settings):
 * the same environment overrides, frozen result and one-line errors as `loadConfig`, with the
 * block's place in the file before the field (`file: packs[0] (medtainer).settings.sync.x: …`).
 */
export function parseSection<S extends z.ZodType>(options: SectionOptions<S>): Readonly<z.output<S>> {
  const where = options.file ?? 'config';
  const isMapping = typeof options.raw === 'object' && options.raw !== null && !Array.isArray(options.raw);
  if (options.raw !== undefined && options.raw !== null && !isMapping)
    throw invalidSection(where, options.label, 'expected a mapping of settings', options.file);
  const raw: Record<string, unknown> = isMapping ? structuredClone(options.raw as Record<string, unknown>) : {};
  const fromEnv = new Map<string, string>();
  for (const [name, field] of Object.entries(options.envOverrides ?? {})) {
    const text = options.env?.[name];
    if (text === undefined || text === '') continue;
    setPath(raw, field.split('.'), text);
    fromEnv.set(field, name);
  }
  const parsed = options.schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? '' : issue.path.join('.');
    const envName = fromEnv.get(field);
    const at = envName === undefined ? where : `environment variable ${envName}`;
    const dotted = field === '' ? options.label : `${options.label}.${field}`;
    throw invalidSection(at, dotted, issue?.message ?? 'invalid', options.file);
  }
  return deepFreeze(parsed.data) as Readonly<z.output<S>>;
}

function invalidSection(at: string, field: string, expected: string, file: string | undefined): BrainmeshError {
  return new BrainmeshError('CONFIG_INVALID', `${at}: ${field}: ${expected}`, { details: { file, field, expected } });
}
