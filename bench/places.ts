/**
 * What a create costs when a developer's APIs live in 1, 2 and 4 places: the real ApiKeyProvisioner and
 * the functions' own API Gateway clients (#clients/api-gateway: another account through its role, with
 * its credentials cached), against the control-plane stand-in, every call of which answers after a fixed
 * delay (a `delay` fault on each operation), so that calls made at once can be told from calls in turn.
 *
 * Runs in its own process, as bench/run.ts starts it: it points the SDK's endpoint variables at the
 * stand-in before the clients load. Writes its figures as JSON to BENCH_OUT, or prints them without it.
 */
import { writeFileSync } from 'node:fs';
import { type Place, placeId, placedPlanId, type ProvisioningTarget } from '#commons/places';
import { type ApiGatewaySeed, startAwsControlPlane } from '../local/stand-ins/aws-control-plane.ts';
import { median, quantile } from './cold-init.ts';
import { type PlacesCase, type PlacesFigures, placesHeading, placesRows } from './places-report.ts';

const delayMs = Number(process.env.BENCH_PLACES_DELAY_MS ?? 20);
const creates = Number(process.env.BENCH_PLACES_CREATES ?? 25);

const home: Place = { account: '000000000000', region: 'us-east-1' };
const partnerRole = { roleArn: 'arn:aws:iam::222222222222:role/portal-credentials-target', externalId: 'portal-credentials-bench' };
/** In the order a case takes them: its own place, another Region, another account (through its role), a third Region. */
const allPlaces: { place: Place; target?: ProvisioningTarget }[] = [
  { place: home },
  { place: { account: '000000000000', region: 'eu-west-1' }, target: { regions: ['eu-west-1', 'ap-southeast-2'] } },
  { place: { account: '222222222222', region: 'us-west-2' }, target: { account: '222222222222', regions: ['us-west-2'], ...partnerRole } },
  { place: { account: '000000000000', region: 'ap-southeast-2' }, target: { regions: ['eu-west-1', 'ap-southeast-2'] } },
];
const apiOf = (place: Place) => `api${place.region.replaceAll('-', '')}`.slice(0, 10);
const planOf = (place: Place) => `plan${place.account.slice(0, 1)}${place.region.replaceAll('-', '')}`.slice(0, 10);
const seedOf = (place: Place): ApiGatewaySeed => ({
  restApis: [{ id: apiOf(place), name: `API in ${placeId(place)}` }],
  usagePlans: [{ id: planOf(place), name: `Plan in ${placeId(place)}`, apiStages: [{ apiId: apiOf(place), stage: 'prod' }] }],
});

const controlPlane = await startAwsControlPlane({
  seed: seedOf(home),
  places: Object.fromEntries(allPlaces.slice(1).map(({ place }) => [placeId(place), seedOf(place)])),
  roles: [{ ...partnerRole, trustedAccounts: [home.account] }],
});
Object.assign(process.env, {
  AWS_REGION: home.region,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_API_GATEWAY: controlPlane.url,
  AWS_ENDPOINT_URL_STS: controlPlane.url,
});
// Loaded only now, so that the clients read the endpoints above.
const { apiGateway, apiGatewayIn } = await import('#clients/api-gateway');
const { ApiKeyProvisioner } = await import('#provisioning/api-key-provisioner');
const { UsagePlanCatalog } = await import('#provisioning/usage-plan-catalog');

/** Every operation a create may make, each answered after `delayMs`: a fixed per-call latency. */
const delayedOperations = ['CreateApiKey', 'CreateUsagePlanKey', 'GetApiKeys', 'GetApiKey', 'DeleteApiKey', 'GetUsagePlan', 'AssumeRole'];
const addLatency = () => {
  for (const operation of delayedOperations) controlPlane.injectFault(operation, { kind: 'delay', delayMs }, 1_000_000);
};

/** The provisioner as credentials.ts builds it for these places; new clients stand for a new container (no role credentials cached). */
const provisionerFor = (count: number) => {
  const elsewhere = allPlaces.slice(1, count).map(({ place, target }) => {
    const client = apiGatewayIn(place, target, 'bench', home.region);
    return { place, apiGateway: client, usagePlans: new UsagePlanCatalog(client) };
  });
  return {
    provisioner: new ApiKeyProvisioner(apiGateway, new UsagePlanCatalog(apiGateway), undefined, 'bench', { home, elsewhere }),
    destroy: () => {
      for (const { apiGateway: client } of elsewhere) client.destroy();
    },
  };
};

let appCounter = 0;
const createIn = (provisioner: InstanceType<typeof ApiKeyProvisioner>, count: number) => {
  const appKey = `bench-places-${appCounter++}`;
  const usagePlanIds = allPlaces.slice(0, count).map(({ place }) => placedPlanId(planOf(place), place, home));
  return provisioner.create(
    { appKey, appName: appKey, developer: 'bench@example.com' },
    { apiIds: allPlaces.slice(0, count).map(({ place }) => apiOf(place)), usagePlanIds, scopes: [] },
  );
};

const totalCalls = (except?: string) =>
  Object.entries(controlPlane.calls())
    .filter(([operation]) => operation !== except)
    .reduce((sum, [, count]) => sum + count, 0);

const measure = async (label: string, count: number, { newContainerEach = false } = {}): Promise<PlacesCase> => {
  controlPlane.reset();
  addLatency();
  let current = provisionerFor(count);
  // Two creates first: the JIT warms, and another account's role credentials are fetched once, as a container's first call does.
  for (let warmUp = 0; warmUp < 2; warmUp++) await createIn(current.provisioner, count);
  const before = { apiGateway: totalCalls('AssumeRole'), assumeRole: controlPlane.calls().AssumeRole ?? 0 };
  const times: number[] = [];
  const roundTrips: number[] = [];
  for (let index = 0; index < creates; index++) {
    if (newContainerEach) {
      current.destroy();
      current = provisionerFor(count);
    }
    const started = performance.now();
    await createIn(current.provisioner, count);
    const elapsed = performance.now() - started;
    times.push(elapsed);
    roundTrips.push(Math.floor(elapsed / delayMs));
  }
  current.destroy();
  const undelayed = Object.keys(controlPlane.calls()).filter((operation) => !delayedOperations.includes(operation));
  if (undelayed.length > 0)
    throw new Error(`bench/places.ts: ${undelayed.join(', ')} answered without the fixed latency; add them to delayedOperations`);
  return {
    case: label,
    places: count,
    apiGatewayCalls: (totalCalls('AssumeRole') - before.apiGateway) / creates,
    assumeRoleCalls: ((controlPlane.calls().AssumeRole ?? 0) - before.assumeRole) / creates,
    roundTrips: median(roundTrips),
    medianMs: median(times),
    p95Ms: quantile(times, 0.95),
  };
};

const figures: PlacesFigures = {
  delayMs,
  creates,
  cases: [
    await measure('1 place (its own)', 1),
    await measure('2 places (2 Regions)', 2),
    await measure('4 places (3 Regions, 2 accounts)', 4),
    await measure('4 places, a new container each time', 4, { newContainerEach: true }),
  ],
};
apiGateway.destroy();
await controlPlane.close();

if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(figures));
else {
  console.log(placesHeading(figures));
  console.table(placesRows(figures));
}
