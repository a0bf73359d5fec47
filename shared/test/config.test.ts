import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { type BrainmeshError, baseConfigSchema, isBrainmeshError, loadConfig } from '../src/index.js';
import { tempDir } from '../testing/index.js';

const schema = baseConfigSchema.extend({
  server: z
    .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) })
    .strict()
    .default({ host: '127.0.0.1', port: 8080 }),
});
const envOverrides = {
  DATABASE_URL: { path: ['storage', 'databaseUrl'], type: 'string' },
  BRAINMESH_HOME: { path: ['home'], type: 'string' },
  BRAINMESH_PORT: { path: ['server', 'port'], type: 'port' },
} as const;

function configFile(t: { after(fn: () => void): void }, yaml: string): string {
  const dir = tempDir('config');
  t.after(dir.remove);
  const file = path.join(dir.dir, 'hub.yaml');
  writeFileSync(file, yaml);
  return file;
}

function failure(fn: () => unknown): BrainmeshError {
  try {
    fn();
  } catch (err) {
    if (isBrainmeshError(err)) return err;
    throw err;
  }
  assert.fail('expected the config to be refused');
}

describe('loadConfig', () => {
  it('fills defaults, reads the file, and freezes the result', (t) => {
    const file = configFile(t, 'server:\n  port: 9090\nlog:\n  level: debug\n');
    const config = loadConfig({ schema, file, env: {}, envOverrides });
    assert.equal(config.server.port, 9090);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.home, '.brainmesh');
    assert.equal(config.log.level, 'debug');
    assert.equal(config.storage.databaseUrl, undefined);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.server));
  });

  it('lets the environment override the file', (t) => {
    const file = configFile(t, 'server:\n  port: 9090\n');
    const config = loadConfig({
      schema,
      file,
      env: { BRAINMESH_PORT: '7070', DATABASE_URL: 'postgres://u@127.0.0.1:5432/x', BRAINMESH_HOME: '/tmp/h' },
      envOverrides,
    });
    assert.equal(config.server.port, 7070);
    assert.equal(config.storage.databaseUrl, 'postgres://u@127.0.0.1:5432/x');
    assert.equal(config.home, '/tmp/h');
  });

  it('names the file, the field and what was expected for a wrong type', (t) => {
    const file = configFile(t, 'server:\n  port: "eighty"\n');
    const err = failure(() => loadConfig({ schema, file, env: {}, envOverrides }));
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.message, `${file}: server.port: Invalid input: expected number, received string`);
    assert.equal(err.details?.field, 'server.port');
  });

  it('names the environment variable when the bad value came from there', () => {
    const bad = failure(() => loadConfig({ schema, env: { BRAINMESH_PORT: '80x' }, envOverrides }));
    assert.match(bad.message, /^environment variable BRAINMESH_PORT: server\.port: expected a port number/);
    const url = failure(() => loadConfig({ schema, env: { DATABASE_URL: 'mysql://x' }, envOverrides }));
    assert.match(url.message, /^environment variable DATABASE_URL: storage\.databaseUrl: /);
  });

  it('refuses a metrics listener with metrics turned off, naming the setting', (t) => {
    const file = configFile(t, 'metrics:\n  enabled: false\n  port: 9100\n');
    const err = failure(() => loadConfig({ schema, file, env: {}, envOverrides }));
    assert.match(err.message, /metrics\.port/);
    assert.match(err.message, /needs metrics\.enabled/);
    assert.equal(
      loadConfig({
        schema,
        env: { BRAINMESH_METRICS: 'false' },
        envOverrides: { BRAINMESH_METRICS: { path: ['metrics', 'enabled'], type: 'boolean' } },
      }).metrics.enabled,
      false,
    );
  });

  it('refuses unknown settings, so a typo is not silently ignored', (t) => {
    const file = configFile(t, 'server:\n  prot: 9090\n');
    const err = failure(() => loadConfig({ schema, file, env: {}, envOverrides }));
    assert.match(err.message, /server: Unrecognized key: "prot"/);
  });

  it('says which file is missing or is not YAML', (t) => {
    const missing = failure(() => loadConfig({ schema, file: '/nonexistent/hub.yaml', env: {}, envOverrides }));
    assert.equal(missing.code, 'CONFIG_NOT_FOUND');
    assert.match(missing.message, /\/nonexistent\/hub\.yaml: no such config file/);
    const file = configFile(t, 'server:\n  port: [1,\n');
    const broken = failure(() => loadConfig({ schema, file, env: {}, envOverrides }));
    assert.match(broken.message, new RegExp(`^${file}: not valid YAML \\(line \\d+, column \\d+\\)`));
  });
});
