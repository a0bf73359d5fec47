import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadNodeConfig, loadPacks } from '@brainmesh/node';
import type { MedtainerSettings } from '../src/settings.js';

// MedTainer's settings now sit in its pack block (`packs: [{ use: medtainer, settings }]`) and are
// checked by the pack's own schema when the node loads it; its environment variables land there.
const base = { BRAINMESH_HUB_URL: 'http://127.0.0.1:9' };
const load = async (env: Record<string, string>, settings?: Record<string, unknown>) => {
  const config = loadNodeConfig({
    env: { ...base, ...env },
    overrides: { node: { name: 'medtainer' }, packs: [{ use: 'medtainer', settings }] },
  });
  const [pack] = await loadPacks(config, { env: { ...base, ...env } });
  return pack!.settings as MedtainerSettings;
};

describe("MedTainer's settings", () => {
  it('takes credentials from the environment and leaves a service without them on sample data', async () => {
    const settings = await load({ DIGITALOCEAN_TOKEN: 'dop_v1_x', GODADDY_BASE_URL: 'https://api.ote-godaddy.com' });
    assert.equal(settings.digitalocean.token, 'dop_v1_x');
    assert.equal(settings.godaddy.baseUrl, 'https://api.ote-godaddy.com');
    assert.equal(settings.godaddy.apiKey, undefined);
    assert.equal(settings.gohighlevel.baseUrl, 'https://services.leadconnectorhq.com');
    assert.deepEqual(settings.sync, { schedule: '*/15 * * * *', maxAgeMinutes: 20 });
  });

  it('refuses half a credential, naming what is missing', async () => {
    await assert.rejects(
      load({ GOHIGHLEVEL_TOKEN: 'pit-x' }),
      /\(medtainer\)\.settings\.gohighlevel: .*token and locationId/,
    );
    await assert.rejects(load({ GODADDY_API_KEY: 'k' }), /\(medtainer\)\.settings\.godaddy: .*apiKey and apiSecret/);
  });

  it('refuses a schedule cron cannot read and a base URL that is not http(s)', async () => {
    await assert.rejects(
      load({}, { sync: { schedule: 'every now and then' } }),
      /\(medtainer\)\.settings\.sync\.schedule: .*cron/,
    );
    await assert.rejects(
      load({ DIGITALOCEAN_BASE_URL: 'ftp://example.com' }),
      /^BrainmeshError: environment variable DIGITALOCEAN_BASE_URL: packs\[0\] \(medtainer\)\.settings\.digitalocean\.baseUrl: /,
    );
  });
});
