import { APIGatewayClient, GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { beforeEach, describe, expect, it } from 'vitest';
import { UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import { aws, awsError, resetAwsMocks } from '../../helpers/aws-mocks.ts';

const ordersProd = { apiId: '5aba4csvd4', stage: 'prod' };
let clock: number;
const catalog = () => new UsagePlanCatalog(new APIGatewayClient({ region: 'us-east-1' }), { ttlMs: 60_000, now: () => clock });
const reads = () => aws.apiGateway.commandCalls(GetUsagePlanCommand).length;

describe('UsagePlanCatalog', () => {
  beforeEach(() => {
    resetAwsMocks();
    clock = 1_000_000;
    aws.apiGateway.on(GetUsagePlanCommand).resolves({ id: 'gold', apiStages: [ordersProd] });
  });

  it('reads a plan with GetUsagePlan and answers from its cache until the time-to-live passes', async () => {
    // Prepare
    const plans = catalog();

    // Act
    const first = await plans.stagesOf('gold');
    clock += 59_999;
    const cached = await plans.stagesOf('gold');
    clock += 1;
    const reread = await plans.stagesOf('gold');

    // Assess
    expect([first, cached, reread]).toEqual([[ordersProd], [ordersProd], [ordersProd]]);
    expect(aws.apiGateway.commandCalls(GetUsagePlanCommand).map((call) => call.args[0].input)).toEqual([
      { usagePlanId: 'gold' },
      { usagePlanId: 'gold' },
    ]);
  });

  it('re-reads on a miss: a plan not found is undefined, and asked for again next time', async () => {
    // Prepare
    const plans = catalog();
    aws.apiGateway
      .on(GetUsagePlanCommand, { usagePlanId: 'later' })
      .rejectsOnce(awsError('NotFoundException', 404))
      .resolves({ id: 'later', apiStages: [ordersProd] });

    // Act
    const missing = await plans.stagesOf('later');
    const created = await plans.stagesOf('later');

    // Assess
    expect(missing).toBeUndefined();
    expect(created).toEqual([ordersProd]);
    expect(reads()).toBe(2);
  });

  it('reads afresh when asked to, and keeps what it read', async () => {
    // Prepare
    const plans = catalog();
    await plans.stagesOf('gold');
    aws.apiGateway.on(GetUsagePlanCommand).resolves({ id: 'gold', apiStages: [ordersProd, { apiId: 'q8w2e4r6t1', stage: 'prod' }] });

    // Act
    const fresh = await plans.stagesOf('gold', { fresh: true });
    const cached = await plans.stagesOf('gold');

    // Assess
    expect(fresh).toHaveLength(2);
    expect(cached).toEqual(fresh);
    expect(reads()).toBe(2);
  });

  it('shares one read among concurrent requests for a plan', async () => {
    // Prepare
    const plans = catalog();

    // Act
    const answers = await Promise.all([plans.stagesOf('gold'), plans.stagesOf('gold'), plans.stagesOf('gold')]);

    // Assess
    expect(answers).toEqual([[ordersProd], [ordersProd], [ordersProd]]);
    expect(reads()).toBe(1);
  });

  it('lets AWS failures through and caches nothing for them', async () => {
    // Prepare
    const plans = catalog();
    aws.apiGateway
      .on(GetUsagePlanCommand)
      .rejectsOnce(awsError('TooManyRequestsException', 429))
      .resolves({ id: 'gold', apiStages: [ordersProd] });

    // Act
    const failure = await plans.stagesOf('gold').catch((error) => error);
    const retried = await plans.stagesOf('gold');

    // Assess
    expect(failure).toMatchObject({ name: 'TooManyRequestsException' });
    expect(retried).toEqual([ordersProd]);
  });

  it('keeps plan ids apart from object properties: a plan named constructor is just unknown', async () => {
    // Prepare
    const plans = catalog();
    aws.apiGateway.on(GetUsagePlanCommand, { usagePlanId: 'constructor' }).rejects(awsError('NotFoundException', 404));

    // Act + Assess
    expect(await plans.stagesOf('constructor')).toBeUndefined();
  });
});
