import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadNodeConfig } from '../src/config.js';

const base = { BRAINMESH_HUB_URL: 'http://127.0.0.1:9' };
const load = (env: Record<string, string>, overrides: Record<string, unknown> = {}) =>
  loadNodeConfig({ env: { ...base, ...env }, overrides: { node: { name: 'medtainer' }, ...overrides } });

describe("MedTainer's settings", () => {
  it('takes credentials from the environment and leaves a service without them on sample data', () => {
    const config = load({ DIGITALOCEAN_TOKEN: 'dop_v1_x', GODADDY_BASE_URL: 'https://api.ote-godaddy.com' });
    assert.equal(config.medtainer.digitalocean.token, 'dop_v1_x');
    assert.equal(config.medtainer.godaddy.baseUrl, 'https://api.ote-godaddy.com');
    assert.equal(config.medtainer.godaddy.apiKey, undefined);
    assert.equal(config.medtainer.gohighlevel.baseUrl, 'https://services.leadconnectorhq.com');
    assert.deepEqual(config.medtainer.sync, { schedule: '*/15 * * * *', maxAgeMinutes: 20 });
  });

  it('refuses half a credential, naming what is missing', () => {
    assert.throws(() => load({ GOHIGHLEVEL_TOKEN: 'pit-x' }), /medtainer\.gohighlevel.*token and locationId/);
    assert.throws(() => load({ GODADDY_API_KEY: 'k' }), /medtainer\.godaddy.*apiKey and apiSecret/);
  });

  it('refuses a schedule cron cannot read and a base URL that is not http(s)', () => {
    assert.throws(
      () => load({}, { medtainer: { sync: { schedule: 'every now and then' } } }),
      /medtainer\.sync\.schedule.*cron/,
    );
    assert.throws(() => load({ DIGITALOCEAN_BASE_URL: 'ftp://example.com' }), /medtainer\.digitalocean\.baseUrl/);
  });
});
