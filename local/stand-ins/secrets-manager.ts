/**
 * The Secrets Manager stand-in (awsJson1_1): every call is `POST /` with
 * `X-Amz-Target: secretsmanager.<Operation>`; errors are status 400 with `__type` in the body.
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  ALPHANUMERIC,
  AwsError,
  epochSeconds,
  InvalidInputError,
  type JsonObject,
  optionalObjectList,
  optionalString,
  optionalStringList,
  randomString,
  requiredString,
  type ResolvedCall,
  type UnknownCall,
  type WireProtocol,
} from './aws-protocol.ts';

const AWS_JSON_1_1_CONTENT = { 'content-type': 'application/x-amz-json-1.1' };

/**
 * Secrets Manager: the SDK reads the error name from `__type`. The service itself spells the text
 * `Message` (the modelled member); `message` is sent too so non-SDK readers find it either way.
 */
export const awsJson1_1: WireProtocol = {
  // Secrets Manager does not model a throttling error; the service answers 400 ThrottlingException,
  // a name the SDK's retry strategy knows as throttling.
  throttlingError: () => new AwsError(400, 'ThrottlingException', 'Rate exceeded'),
  invalidInputError: (message) => new AwsError(400, 'InvalidParameterException', message),
  renderError: (error) => ({
    status: error.status,
    headers: { ...AWS_JSON_1_1_CONTENT, ...error.headers },
    body: { __type: error.errorType, message: error.message, Message: error.message },
  }),
};

interface SecretVersion {
  versionId: string;
  secretString: string;
  stages: Set<string>;
  createdDate: Date;
}

interface SecretRecord {
  arn: string;
  name: string;
  description?: string;
  tags: { Key: string; Value: string }[];
  createdDate: Date;
  lastChangedDate: Date;
  versions: SecretVersion[];
}

/** The secrets Secrets Manager holds, keyed by name: the seed's, then those calls create. */
export class SecretsManagerState {
  readonly secrets = new Map<string, SecretRecord>();

  constructor(seed: { name: string; secretString: string }[] = []) {
    for (const secret of seed) {
      const record = newSecret(secret.name, undefined, []);
      addSecretVersion(record, randomUUID(), secret.secretString);
      this.secrets.set(record.name, record);
    }
  }
}

type SecretsOperation = (state: SecretsManagerState, body: JsonObject) => JsonObject;

const secretsManagerOperations: Record<string, SecretsOperation> = {
  CreateSecret: createSecret,
  GetSecretValue: getSecretValue,
  PutSecretValue: putSecretValue,
  DescribeSecret: describeSecret,
};

const SECRETS_MANAGER_TARGET_PREFIX = 'secretsmanager.';

export function resolveSecretsManagerCall(req: IncomingMessage, target: string): ResolvedCall<SecretsManagerState> | UnknownCall {
  const operation = target.startsWith(SECRETS_MANAGER_TARGET_PREFIX) ? target.slice(SECRETS_MANAGER_TARGET_PREFIX.length) : undefined;
  const run = operation === undefined ? undefined : secretsManagerOperations[operation];
  if (req.method !== 'POST' || operation === undefined || !run) {
    const implemented = Object.keys(secretsManagerOperations).join(', ');
    const message = `The local Secrets Manager stand-in has no operation ${target}. Implemented: ${implemented}`;
    return { protocol: awsJson1_1, error: new AwsError(400, 'UnknownOperationException', message) };
  }
  return {
    protocol: awsJson1_1,
    operation,
    run: (state, body) => ({ status: 200, headers: AWS_JSON_1_1_CONTENT, body: run(state, body) }),
  };
}

const AWSCURRENT = 'AWSCURRENT';
const AWSPREVIOUS = 'AWSPREVIOUS';

function createSecret(state: SecretsManagerState, body: JsonObject): JsonObject {
  const name = requiredString(body, 'Name');
  rejectSecretBinary(body);
  if (state.secrets.has(name)) {
    throw new AwsError(400, 'ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
  }
  const secret = newSecret(name, optionalString(body, 'Description'), optionalTags(body));
  const secretString = optionalString(body, 'SecretString');
  // Without a value the service creates the secret with no version at all.
  const version = secretString === undefined ? undefined : addSecretVersion(secret, versionIdFrom(body), secretString);
  state.secrets.set(name, secret);
  return { ARN: secret.arn, Name: secret.name, VersionId: version?.versionId };
}

function getSecretValue(state: SecretsManagerState, body: JsonObject): JsonObject {
  const secret = findSecret(state, requiredString(body, 'SecretId'));
  const versionId = optionalString(body, 'VersionId');
  const stage = optionalString(body, 'VersionStage') ?? (versionId === undefined ? AWSCURRENT : undefined);
  const version = secret.versions.find((v) => (versionId === undefined || v.versionId === versionId) && (stage === undefined || v.stages.has(stage)));
  if (!version) {
    throw resourceNotFound(
      `Secrets Manager can't find the specified secret value for ${versionId ? `VersionId: ${versionId}` : `staging label: ${stage}`}`,
    );
  }
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    SecretString: version.secretString,
    VersionStages: [...version.stages],
    CreatedDate: epochSeconds(version.createdDate),
  };
}

/** The new value becomes AWSCURRENT and the former current one AWSPREVIOUS, as in the service. */
function putSecretValue(state: SecretsManagerState, body: JsonObject): JsonObject {
  const secret = findSecret(state, requiredString(body, 'SecretId'));
  rejectSecretBinary(body);
  const stages = optionalStringList(body, 'VersionStages');
  if (stages && (stages.length !== 1 || stages[0] !== AWSCURRENT)) {
    throw new InvalidInputError('The local stand-in only supports the default VersionStages [AWSCURRENT]');
  }
  const version = addSecretVersion(secret, versionIdFrom(body), requiredString(body, 'SecretString'));
  return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
}

function describeSecret(state: SecretsManagerState, body: JsonObject): JsonObject {
  const secret = findSecret(state, requiredString(body, 'SecretId'));
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    CreatedDate: epochSeconds(secret.createdDate),
    LastChangedDate: epochSeconds(secret.lastChangedDate),
    Tags: secret.tags.length > 0 ? secret.tags : undefined,
    VersionIdsToStages: Object.fromEntries(secret.versions.map((v) => [v.versionId, [...v.stages]])),
  };
}

/** `SecretId` may be the name or the full ARN. */
function findSecret(state: SecretsManagerState, secretId: string): SecretRecord {
  const secret = state.secrets.get(secretId) ?? [...state.secrets.values()].find((s) => s.arn === secretId);
  if (!secret) throw resourceNotFound("Secrets Manager can't find the specified secret.");
  return secret;
}

const resourceNotFound = (message: string) => new AwsError(400, 'ResourceNotFoundException', message);

function newSecret(name: string, description: string | undefined, tags: SecretRecord['tags']): SecretRecord {
  const now = new Date();
  // The service appends a hyphen and six random characters so a re-created secret gets a new ARN.
  const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-${randomString(6, ALPHANUMERIC)}`;
  return { arn, name, description, tags, createdDate: now, lastChangedDate: now, versions: [] };
}

/**
 * The SDK fills `ClientRequestToken` with a fresh UUID and the service uses it as the
 * version id, so a retried request with the same token and value is a no-op.
 */
function addSecretVersion(secret: SecretRecord, versionId: string, secretString: string): SecretVersion {
  const existing = secret.versions.find((v) => v.versionId === versionId);
  if (existing) {
    if (existing.secretString === secretString) return existing;
    throw new AwsError(400, 'ResourceExistsException', `A version with VersionId ${versionId} already exists with a different value.`);
  }
  for (const version of secret.versions) {
    version.stages.delete(AWSPREVIOUS);
    if (version.stages.delete(AWSCURRENT)) version.stages.add(AWSPREVIOUS);
  }
  const version: SecretVersion = { versionId, secretString, stages: new Set([AWSCURRENT]), createdDate: new Date() };
  // Versions without a staging label are deprecated and no longer retrievable.
  secret.versions = [...secret.versions.filter((v) => v.stages.size > 0), version];
  secret.lastChangedDate = version.createdDate;
  return version;
}

export function currentVersion(secret: SecretRecord | undefined): SecretVersion | undefined {
  return secret?.versions.find((v) => v.stages.has(AWSCURRENT));
}

function versionIdFrom(body: JsonObject): string {
  return optionalString(body, 'ClientRequestToken') ?? randomUUID();
}

function rejectSecretBinary(body: JsonObject): void {
  if (body.SecretBinary !== undefined) throw new InvalidInputError('The local stand-in only supports SecretString, not SecretBinary');
}

function optionalTags(body: JsonObject): SecretRecord['tags'] {
  return (optionalObjectList(body, 'Tags') ?? []).map((tag) => ({ Key: requiredString(tag, 'Key'), Value: requiredString(tag, 'Value') }));
}
