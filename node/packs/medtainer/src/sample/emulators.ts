/**
 * The three services as loopback emulators over a sample business, for tests outside the pack
 * (`@brainmesh/pack-medtainer/emulators`): serve one with the kit's `serveFake` and point the
 * pack's base URL at it.
 */
export { emptyBusiness, SAMPLE_LOCATION_ID, type SampleBusiness } from './business.js';
export { digitalOceanEmulator } from './digitalocean.js';
export { generateBusiness, SAMPLE_SEED } from './generate.js';
export { goDaddyEmulator } from './godaddy.js';
export { goHighLevelEmulator } from './gohighlevel.js';
