import { ApiClient, OutboundLimiter } from '@brainmesh/node/kit';
import { type FakeService, quietLogger, serveFake } from '@brainmesh/node/kit/testing';
import { GoHighLevelApi } from '../../src/gohighlevel/client.js';
import { GOHIGHLEVEL_LIMIT, goHighLevelPolicy } from '../../src/gohighlevel/policy.js';
import type { SampleBusiness } from '../../src/sample/business.js';
import { goHighLevelEmulator } from '../../src/sample/gohighlevel.js';

export const GHL_CREDENTIALS = { token: 'pit-test-token', locationId: 'sampleLocation0001' };

/**
 * GoHighLevel as a live connection sees it: the emulator over `business` on a loopback HTTP
 * server, and a client to it with the service's real limiter.
 */
export async function emulatedGoHighLevel(
  business: SampleBusiness,
  options: { attempts?: number; limiter?: boolean } = {},
): Promise<{ fake: FakeService; api: GoHighLevelApi }> {
  const fake = await serveFake(goHighLevelEmulator(business, GHL_CREDENTIALS));
  const client = new ApiClient({
    policy: goHighLevelPolicy,
    baseUrl: fake.url,
    auth: () => ({ authorization: `Bearer ${GHL_CREDENTIALS.token}` }),
    limiter: options.limiter === false ? null : new OutboundLimiter(GOHIGHLEVEL_LIMIT),
    logger: quietLogger,
    ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
  });
  return { fake, api: new GoHighLevelApi(client, GHL_CREDENTIALS.locationId) };
}
