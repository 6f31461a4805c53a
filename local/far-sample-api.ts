import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { type LocalWebhook, localPlaces } from './local-webhook.ts';
import { startLocalSampleApi } from './sample-api.ts';

export interface FarSampleApi {
  url: string;
  /** The API it stands for, its usage plan (as the portal names it) and its place, `account/region`. */
  apiId: string;
  usagePlanId: string;
  place: string;
  close(): Promise<void>;
}

/**
 * The sample API of another Region, beside the local webhook: GET /orders stands for the Orders API
 * (Europe) (`localPlaces.europe`) and admits a key of that place only, as API Gateway in eu-west-1
 * would. Its client signs for eu-west-1, so the control-plane stand-in answers from that place's keys
 * and plans: a key of the webhook's own place with the same value is another key, and does not count.
 */
export const startFarSampleApi = async (webhook: LocalWebhook, options: { host?: string } = {}): Promise<FarSampleApi> => {
  const { europe } = localPlaces;
  const apiGateway = new APIGatewayClient({
    region: europe.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: webhook.controlPlane.url,
  });
  const sample = await startLocalSampleApi({
    apiGateway,
    ordersApiId: europe.apiId,
    issuer: webhook.cognito.issuer,
    jwksUrl: webhook.cognito.jwksUrl,
    paymentsScope: webhook.sampleApi.paymentsScope,
    ...options,
  });
  return {
    url: sample.url,
    apiId: europe.apiId,
    usagePlanId: europe.usagePlanId,
    place: `${europe.account}/${europe.region}`,
    close: async () => {
      await sample.close();
      apiGateway.destroy();
    },
  };
};
