/**
 * The Service Quotas stand-in (awsJson1_1, as `@aws-sdk/client-service-quotas` speaks it): every call is
 * `POST /` with `X-Amz-Target: ServiceQuotasV20190624.<Operation>`; errors are status 400 with `__type`
 * in the body. It knows Cognito user pools' (`cognito-idp`) quotas only, the app clients per pool among
 * them with a value a test sets, and answers ListServiceQuotas, ListAWSDefaultServiceQuotas,
 * GetServiceQuota and GetAWSDefaultServiceQuota.
 *
 * What it does NOT emulate: other services' quotas (NoSuchResourceException for any other service code),
 * quotas applied at resource level, usage metrics, increase requests. Its quota codes are its own
 * (`L-LOCAL…`), not AWS's. Its quotas are one set for every account and Region.
 */
import type { IncomingMessage } from 'node:http';
import { AwsError, type JsonObject, optionalString, requiredString, type ResolvedCall, type UnknownCall, type WireProtocol } from './aws-protocol.ts';

/** What the stand-in's Service Quotas answers; settable at start and while running. */
export interface ServiceQuotasSettings {
  /** The applied quota of app clients per user pool (default 1,000, AWS's default). */
  appClientsPerUserPool?: number;
  /** Refuse every call with AccessDeniedException, as AWS does a role without `servicequotas:` permissions. */
  accessDenied?: boolean;
}

const AWS_JSON_1_1_CONTENT = { 'content-type': 'application/x-amz-json-1.1' };

const serviceQuotasJson: WireProtocol = {
  throttlingError: () => new AwsError(400, 'TooManyRequestsException', 'Rate exceeded'),
  invalidInputError: (message) => new AwsError(400, 'IllegalArgumentException', message),
  renderError: (error) => ({
    status: error.status,
    headers: { ...AWS_JSON_1_1_CONTENT, ...error.headers },
    body: { __type: error.errorType, message: error.message, Message: error.message },
  }),
};

const SERVICE_CODE = 'cognito-idp';
const SERVICE_NAME = 'Amazon Cognito User Pools';
export const APP_CLIENTS_QUOTA_CODE = 'L-LOCAL001';
const AWS_DEFAULT_APP_CLIENTS = 1_000;

interface QuotaDefinition {
  code: string;
  name: string;
  defaultValue: number;
}

/** A few of the service's quotas, so that callers must find theirs by name or code, across pages. */
const quotas: QuotaDefinition[] = [
  { code: 'L-LOCAL002', name: 'User pools per Region', defaultValue: 1_000 },
  { code: 'L-LOCAL003', name: 'Resource servers per user pool', defaultValue: 25 },
  { code: APP_CLIENTS_QUOTA_CODE, name: 'App clients per user pool', defaultValue: AWS_DEFAULT_APP_CLIENTS },
  { code: 'L-LOCAL004', name: 'Identity providers per user pool', defaultValue: 300 },
];

export class ServiceQuotasState {
  settings: Required<ServiceQuotasSettings>;

  constructor(settings: ServiceQuotasSettings = {}) {
    this.settings = { appClientsPerUserPool: AWS_DEFAULT_APP_CLIENTS, accessDenied: false };
    this.set(settings);
  }

  set(settings: ServiceQuotasSettings): void {
    const value = settings.appClientsPerUserPool;
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) throw new Error(`a quota is a positive whole number, not ${value}`);
    this.settings = { ...this.settings, ...settings };
  }

  /** A quota as the API answers it: applied (the account's value) or AWS's default. */
  view(quota: QuotaDefinition, applied: boolean): JsonObject {
    const value = applied && quota.code === APP_CLIENTS_QUOTA_CODE ? this.settings.appClientsPerUserPool : quota.defaultValue;
    return {
      ServiceCode: SERVICE_CODE,
      ServiceName: SERVICE_NAME,
      QuotaArn: `arn:aws:servicequotas:us-east-1:000000000000:${SERVICE_CODE}/${quota.code}`,
      QuotaCode: quota.code,
      QuotaName: quota.name,
      Value: value,
      Unit: 'None',
      Adjustable: true,
      GlobalQuota: false,
    };
  }
}

type QuotasOperation = (state: ServiceQuotasState, body: JsonObject) => JsonObject;

/** Two quotas a page unless MaxResults asks for fewer: callers must follow NextToken. */
const PAGE_SIZE = 2;

const list =
  (applied: boolean): QuotasOperation =>
  (state, body) => {
    serviceOf(body);
    const start = Number(optionalString(body, 'NextToken') ?? '0');
    const size = typeof body.MaxResults === 'number' ? Math.min(body.MaxResults, PAGE_SIZE) : PAGE_SIZE;
    if (!Number.isInteger(start) || start < 0 || start > quotas.length) {
      throw new AwsError(400, 'InvalidPaginationTokenException', 'Invalid pagination token');
    }
    const page = quotas.slice(start, start + size).map((quota) => state.view(quota, applied));
    const next = start + size < quotas.length ? String(start + size) : undefined;
    return { Quotas: page, ...(next ? { NextToken: next } : {}) };
  };

const get =
  (applied: boolean): QuotasOperation =>
  (state, body) => {
    serviceOf(body);
    const code = requiredString(body, 'QuotaCode');
    const quota = quotas.find((known) => known.code === code);
    if (!quota) throw noSuchResource(`The request failed because the specified quota ${code} does not exist.`);
    return { Quota: state.view(quota, applied) };
  };

const serviceQuotasOperations: Record<string, QuotasOperation> = {
  ListServiceQuotas: list(true),
  ListAWSDefaultServiceQuotas: list(false),
  GetServiceQuota: get(true),
  GetAWSDefaultServiceQuota: get(false),
};

/** The target prefix the SDK sends (`serviceTarget` in the client's dist-cjs). */
export const SERVICE_QUOTAS_TARGET_PREFIX = 'ServiceQuotasV20190624.';

export function resolveServiceQuotasCall(req: IncomingMessage, target: string): ResolvedCall<ServiceQuotasState> | UnknownCall {
  const operation = target.startsWith(SERVICE_QUOTAS_TARGET_PREFIX) ? target.slice(SERVICE_QUOTAS_TARGET_PREFIX.length) : undefined;
  const run = operation === undefined ? undefined : serviceQuotasOperations[operation];
  if (req.method !== 'POST' || operation === undefined || !run) {
    const implemented = Object.keys(serviceQuotasOperations).join(', ');
    const message = `The local Service Quotas stand-in has no operation ${target}. Implemented: ${implemented}`;
    return { protocol: serviceQuotasJson, error: new AwsError(400, 'UnknownOperationException', message) };
  }
  return {
    protocol: serviceQuotasJson,
    operation,
    run: (state, body) => {
      if (state.settings.accessDenied) {
        throw new AwsError(400, 'AccessDeniedException', `You do not have sufficient access to perform this action (servicequotas:${operation}).`);
      }
      return { status: 200, headers: AWS_JSON_1_1_CONTENT, body: run(state, body) };
    },
  };
}

function serviceOf(body: JsonObject): string {
  const code = requiredString(body, 'ServiceCode');
  if (code !== SERVICE_CODE) throw noSuchResource(`The request failed because the specified service ${code} does not exist.`);
  return code;
}

const noSuchResource = (message: string) => new AwsError(400, 'NoSuchResourceException', message);
