/**
 * CloudFormation DescribeStacks, STS GetCallerIdentity (as much of them as the operator commands
 * read) and STS AssumeRole (what `fromTemporaryCredentials` calls for another account's role), on the awsQuery protocol both services speak: a form-encoded `POST /` naming
 * `Action` and `Version`, answered in XML (`<Action>Response><Action>Result>…`, lists as
 * `<member>` elements), errors as `<ErrorResponse><Error><Type/><Code/><Message/></Error>`
 * with status 400. Shapes from the SDK clients' schemas (`AwsQueryProtocol`, xmlNamespace
 * `http://cloudformation.amazonaws.com/doc/2010-05-15/` and `https://sts.amazonaws.com/doc/2011-06-15/`)
 * and, for the missing-stack error, CloudFormation's own answer (ValidationError
 * "Stack with id NAME does not exist", boto/boto3#2807).
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  AwsError,
  type JsonObject,
  optionalString,
  type Reply,
  type RequestContext,
  type ResolvedCall,
  type UnknownCall,
  type WireProtocol,
} from './aws-protocol.ts';
import { type LocalRole, StsIdentities } from './sts-identities.ts';

/** A stack as DescribeStacks shows it: its name and outputs. */
export interface LocalStack {
  name: string;
  outputs: Record<string, string>;
}

/** What both services answer from: the stacks put there, the roles callers may assume and the sessions they did. */
export class QueryServicesState {
  readonly stacks = new Map<string, LocalStack & { id: string; createdAt: Date }>();
  readonly identities: StsIdentities;
  constructor(roles: readonly LocalRole[] = []) {
    this.identities = new StsIdentities(roles);
  }

  putStack(stack: LocalStack): void {
    const id = `arn:aws:cloudformation:us-east-1:000000000000:stack/${stack.name}/${randomUUID()}`;
    this.stacks.set(stack.name, { ...stack, id, createdAt: new Date() });
  }
}

const XML_CONTENT = { 'content-type': 'text/xml' };

const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;');

const namespaceOf = (version: string | undefined) =>
  version === '2011-06-15' ? 'https://sts.amazonaws.com/doc/2011-06-15/' : 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

const xmlError = (error: AwsError): Reply => ({
  status: error.status,
  headers: { ...XML_CONTENT, ...error.headers },
  body: `<ErrorResponse xmlns="${namespaceOf(undefined)}"><Error><Type>Sender</Type><Code>${escapeXml(error.errorType)}</Code><Message>${escapeXml(
    error.message,
  )}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
});

/** awsQuery: the SDK reads `Error/Code`; throttling is `Throttling` (400) on both services. */
export const awsQuery: WireProtocol = {
  throttlingError: () => new AwsError(400, 'Throttling', 'Rate exceeded'),
  invalidInputError: (message) => new AwsError(400, 'ValidationError', message),
  renderError: xmlError,
};

/** True for a request on the query protocol: a form-encoded body. */
export const isQueryRequest = (req: IncomingMessage): boolean =>
  String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

/** The form's fields; `Action` and `Version` among them. */
export const parseQueryBody = (raw: string): JsonObject => Object.fromEntries(new URLSearchParams(raw));

const respond = (action: string, version: string, result: string): Reply => ({
  status: 200,
  headers: XML_CONTENT,
  body: `<${action}Response xmlns="${namespaceOf(version)}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
});

const describeStacks = (state: QueryServicesState, body: JsonObject): Reply => {
  const name = optionalString(body, 'StackName');
  const stacks = name === undefined ? [...state.stacks.values()] : [...state.stacks.values()].filter((s) => s.name === name || s.id === name);
  if (name !== undefined && stacks.length === 0) throw new AwsError(400, 'ValidationError', `Stack with id ${name} does not exist`);
  const members = stacks.map(
    (stack) =>
      `<member><StackId>${escapeXml(stack.id)}</StackId><StackName>${escapeXml(stack.name)}</StackName><CreationTime>${stack.createdAt.toISOString()}</CreationTime>` +
      `<StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${Object.entries(stack.outputs)
        .map(([key, value]) => `<member><OutputKey>${escapeXml(key)}</OutputKey><OutputValue>${escapeXml(value)}</OutputValue></member>`)
        .join('')}</Outputs></member>`,
  );
  return respond('DescribeStacks', '2010-05-15', `<Stacks>${members.join('')}</Stacks>`);
};

/** The caller of the request: the local operator, or the assumed role of a key AssumeRole issued here. */
const getCallerIdentity = (_state: QueryServicesState, _body: JsonObject, { caller }: RequestContext): Reply =>
  respond(
    'GetCallerIdentity',
    '2011-06-15',
    `<Arn>${escapeXml(caller.arn)}</Arn><UserId>${escapeXml(caller.userId)}</UserId><Account>${caller.account}</Account>`,
  );

/** AssumeRole's answer as the STS client reads it (AssumeRoleResponse: Credentials, AssumedRoleUser). */
const assumeRole = (state: QueryServicesState, body: JsonObject, { caller }: RequestContext): Reply => {
  const session = state.identities.assumeRole(
    {
      RoleArn: optionalString(body, 'RoleArn'),
      RoleSessionName: optionalString(body, 'RoleSessionName'),
      DurationSeconds: optionalString(body, 'DurationSeconds'),
      ExternalId: optionalString(body, 'ExternalId'),
    },
    caller,
  );
  return respond(
    'AssumeRole',
    '2011-06-15',
    `<AssumedRoleUser><Arn>${escapeXml(session.assumedRoleArn)}</Arn><AssumedRoleId>${escapeXml(session.assumedRoleId)}</AssumedRoleId></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${session.secretAccessKey}</SecretAccessKey>` +
      `<SessionToken>${session.sessionToken}</SessionToken><Expiration>${session.expiration.toISOString()}</Expiration></Credentials>`,
  );
};

const operations: Record<string, (state: QueryServicesState, body: JsonObject, context: RequestContext) => Reply> = {
  AssumeRole: assumeRole,
  DescribeStacks: describeStacks,
  GetCallerIdentity: getCallerIdentity,
};

/** The operation a query request names, or an error naming what is not implemented. */
export function resolveQueryCall(body: JsonObject): ResolvedCall<QueryServicesState> | UnknownCall {
  const action = typeof body.Action === 'string' ? body.Action : '';
  const run = operations[action];
  if (!run)
    return { protocol: awsQuery, error: new AwsError(400, 'InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`) };
  return { protocol: awsQuery, operation: action, run };
}
