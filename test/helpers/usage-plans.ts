import { readFileSync } from 'node:fs';
import type { APIGatewayClient, GetUsagePlanCommandInput, GetUsagePlanCommandOutput } from '@aws-sdk/client-api-gateway';
import { UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import type { ControlPlaneSeed } from '../../local/stand-ins/aws-control-plane.ts';
import { awsError } from './aws-errors.ts';

/** The usage plans of `local/seed.json`: unit tests see the plans the stand-in serves. */
const seed = JSON.parse(readFileSync(new URL('../../local/seed.json', import.meta.url), 'utf8')) as ControlPlaneSeed;

/** GetUsagePlan as API Gateway answers it for the seed's plans; any other plan is NotFoundException. */
export const usagePlanFromSeed = async ({ usagePlanId }: GetUsagePlanCommandInput): Promise<Partial<GetUsagePlanCommandOutput>> => {
  const plan = seed.usagePlans.find((candidate) => candidate.id === usagePlanId);
  if (!plan) throw awsError('NotFoundException', 404);
  return { id: plan.id, name: plan.name, apiStages: plan.apiStages };
};

/** A catalogue of the seed's usage plans, for tests that drive the policy without AWS. */
export const seededUsagePlans = () =>
  new UsagePlanCatalog({ send: (command: { input: GetUsagePlanCommandInput }) => usagePlanFromSeed(command.input) } as unknown as APIGatewayClient);
