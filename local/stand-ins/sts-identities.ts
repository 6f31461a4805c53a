/**
 * Who calls the control-plane stand-in, and STS AssumeRole's rules for handing out a role's
 * temporary credentials. Rules from the STS model (`codegen/sdk-codegen/aws-models/sts.json` of
 * aws/aws-sdk-js-v3: roleSessionNameType, externalIdType, roleDurationSecondsType, arnType) and
 * the AssumeRole reference (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html);
 * error codes and texts as STS answers them (see each rule).
 */
import { randomBytes } from 'node:crypto';
import { accountIdPattern } from '#commons/places';
import { ALPHANUMERIC, AwsError, randomString } from './aws-protocol.ts';
import { DEFAULT_ACCOUNT } from './request-place.ts';

/** A role another account provides, as its trust policy lets callers assume it. */
export interface LocalRole {
  /** `arn:aws:iam::ACCOUNT:role/NAME`: credentials of its sessions act in ACCOUNT. */
  roleArn: string;
  /** What the trust policy requires in `sts:ExternalId`; absent: none is required (any or none passes, as in AWS). */
  externalId?: string;
  /** The accounts whose callers the trust policy names; absent: any account. */
  trustedAccounts?: string[];
  /** The role's maximum session duration in seconds (IAM: 3600–43200, default 3600). */
  maxSessionDuration?: number;
}

/** Temporary credentials AssumeRole handed out, and the session they act as. */
export interface RoleSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  roleArn: string;
  account: string;
  /** `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`, as GetCallerIdentity and AccessDenied messages name it. */
  assumedRoleArn: string;
  /** `ROLEID:SESSION`. */
  assumedRoleId: string;
}

/** The identity behind a request's access key. */
export interface Caller {
  account: string;
  arn: string;
  userId: string;
  /** Set when the key is one of a role session this stand-in issued. */
  session?: RoleSession;
}

export interface AssumeRoleInput {
  RoleArn?: string;
  RoleSessionName?: string;
  DurationSeconds?: string;
  ExternalId?: string;
}

/** Access key ids and role ids are upper-case letters and digits (IAM identifiers). */
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const DEFAULT_DURATION_SECONDS = 3600; // "By default, the value is set to 3600 seconds" (AssumeRole, DurationSeconds)
const DEFAULT_MAX_SESSION_DURATION = 3600; // IAM CreateRole MaxSessionDuration: one hour unless the role sets more
/** Role chaining: "if you assume a role using role chaining and provide a DurationSeconds … greater than one hour, the operation fails". */
const ROLE_CHAINING_MAX_SECONDS = 3600;

export class StsIdentities {
  private readonly roles = new Map<string, LocalRole & { name: string; account: string; roleId: string }>();
  private readonly sessions = new Map<string, RoleSession>();
  /** AssumeRole requests per role ARN named, refused ones included; zeroed with the other call counts. */
  readonly assumeRoleCalls = new Map<string, number>();

  constructor(
    roles: readonly LocalRole[] = [],
    /** The identity of every key this stand-in did not issue. */
    readonly operatorArn = `arn:aws:iam::${DEFAULT_ACCOUNT}:user/local-operator`,
  ) {
    for (const role of roles) {
      const match = ROLE_ARN.exec(role.roleArn);
      if (!match) throw new Error(`Stand-in role ${role.roleArn} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`);
      const bad = role.trustedAccounts?.find((account) => !accountIdPattern.test(account));
      if (bad !== undefined) throw new Error(`Stand-in role ${role.roleArn} trusts ${bad}, which is not a 12-digit account id`);
      const max = role.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION;
      if (!(Number.isInteger(max) && max >= 3600 && max <= 43200)) {
        throw new Error(`Stand-in role ${role.roleArn}: maxSessionDuration must be 3600–43200 seconds (IAM)`);
      }
      this.roles.set(role.roleArn, { ...role, account: match[1] as string, name: match[2] as string, roleId: `AROA${randomString(17, UPPER)}` });
    }
  }

  /** The caller a request's access key id stands for: a session issued here, else the local operator. */
  caller(accessKeyId: string | undefined): Caller {
    const session = accessKeyId === undefined ? undefined : this.sessions.get(accessKeyId);
    if (session) return { account: session.account, arn: session.assumedRoleArn, userId: session.assumedRoleId, session };
    return { account: this.operatorArn.split(':')[4] ?? DEFAULT_ACCOUNT, arn: this.operatorArn, userId: 'AIDALOCALOPERATOR' };
  }

  countAssumeRole(roleArn: unknown): void {
    if (typeof roleArn === 'string') this.assumeRoleCalls.set(roleArn, (this.assumeRoleCalls.get(roleArn) ?? 0) + 1);
  }

  /** AssumeRole: validates the input as the model does, then the trust policy, then the duration; issues a session. */
  assumeRole(input: AssumeRoleInput, caller: Caller, now = new Date()): RoleSession {
    const duration = validateAssumeRole(input);
    const roleArn = input.RoleArn as string;
    const sessionName = input.RoleSessionName as string;
    const role = this.roles.get(roleArn);
    const trusted =
      role !== undefined &&
      (role.externalId === undefined || input.ExternalId === role.externalId) &&
      (role.trustedAccounts === undefined || role.trustedAccounts.includes(caller.account));
    if (!role || !trusted) {
      // STS refuses an unknown role, a trust policy that does not name the caller and a wrong or missing external id alike:
      // AccessDenied, HTTP 403, "User: <caller ARN> is not authorized to perform: sts:AssumeRole on resource: <role ARN>"
      // (amzn/selling-partner-api-models#2523, aws/aws-msk-iam-auth#108 for a missing external id).
      throw new AwsError(403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    if (caller.session && duration > ROLE_CHAINING_MAX_SECONDS) {
      throw new AwsError(
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    if (duration > (role.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION)) {
      // ValidationError, 400 (kreuzwerker/awsu#27, prowler-cloud/prowler#923)
      throw new AwsError(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    const session: RoleSession = {
      accessKeyId: `ASIA${randomString(16, UPPER)}`, // temporary keys start with ASIA (IAM identifiers, unique ID prefixes)
      secretAccessKey: randomString(40, ALPHANUMERIC),
      sessionToken: randomBytes(96).toString('base64'),
      expiration: new Date(Math.floor(now.getTime() / 1000) * 1000 + duration * 1000),
      roleArn,
      account: role.account,
      assumedRoleArn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${sessionName}`,
      assumedRoleId: `${role.roleId}:${sessionName}`,
    };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }
}

/**
 * The model's constraints on AssumeRole's input, reported the way STS reports them: ValidationError, 400,
 * "1 validation error detected: Value 'a:b' at 'roleSessionName' failed to satisfy constraint: Member must
 * satisfy regular expression pattern: [\w+=,.@-]*" (JuliaCloud/AWSCore.jl#38, getmoto/moto#9218 for the length).
 * Returns the session's duration in seconds.
 */
function validateAssumeRole(input: AssumeRoleInput): number {
  const problems: string[] = [];
  const check = (member: string, value: string | undefined, rules: { required?: boolean; min: number; max: number; pattern?: RegExp }) => {
    if (value === undefined) {
      if (rules.required) problems.push(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
      return;
    }
    if (value.length < rules.min) problems.push(violation(member, value, `Member must have length greater than or equal to ${rules.min}`));
    if (value.length > rules.max) problems.push(violation(member, value, `Member must have length less than or equal to ${rules.max}`));
    if (rules.pattern && !rules.pattern.test(value)) {
      problems.push(violation(member, value, `Member must satisfy regular expression pattern: ${rules.pattern.source.slice(1, -1)}`));
    }
  };
  check('roleArn', input.RoleArn, { required: true, min: 20, max: 2048 });
  check('roleSessionName', input.RoleSessionName, { required: true, min: 2, max: 64, pattern: /^[\w+=,.@-]*$/ });
  check('externalId', input.ExternalId, { min: 2, max: 1224, pattern: /^[\w+=,.@:/-]*$/ });
  const duration = input.DurationSeconds === undefined ? DEFAULT_DURATION_SECONDS : Number(input.DurationSeconds);
  if (!Number.isInteger(duration)) problems.push(violation('durationSeconds', input.DurationSeconds ?? '', 'Member must be an integer'));
  else if (duration < 900) problems.push(violation('durationSeconds', String(duration), 'Member must have value greater than or equal to 900'));
  else if (duration > 43200) problems.push(violation('durationSeconds', String(duration), 'Member must have value less than or equal to 43200'));
  if (problems.length > 0) {
    const count = `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected`;
    throw new AwsError(400, 'ValidationError', `${count}: ${problems.join('; ')}`);
  }
  return duration;
}

const violation = (member: string, value: string, constraint: string) =>
  `Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`;
