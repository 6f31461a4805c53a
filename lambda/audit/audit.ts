import { APIGatewayClient, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient, DescribeUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ServerClock } from '#clients/server-clock';
import { fencedByTurns } from '#clients/turns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from '#clients/retry-settings';
import type { CredentialType } from '#contract/schemas';
import { UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import { ApiKeyProvisioner } from '#provisioning/api-key-provisioner';
import { isNotFound } from '#provisioning/aws-failures';
import { ClientCredentialsProvisioner, type ClientCredentialsSettings } from '#provisioning/client-credentials-provisioner';
import type { Provisioner } from '#provisioning/provisioner';
import { Registry } from '#provisioning/registry';
import { historyEntry, type HistoryRecorder } from '#history/history-entry';
import { HistoryStore } from '#history/history-store';
import { type Acknowledgement, type AcknowledgementRequest, acknowledges, recordAcknowledgement } from './acknowledgements.ts';
import { type AuditReport, type Drift, findDrift } from './drift.ts';
import { type InventoryProgress, readInventory } from './inventory.ts';
import { apiGatewayRates, cognitoRates, RateLimitedCalls } from './rate-limiter.ts';
import { type RepairResult, repair, repairKindOf } from './repair.ts';

/** What the audit looks at: the deployment's registry, and the AWS credential kinds it issues. */
export interface AuditTarget {
  registryTableName: string;
  /**
   * Checks the API keys of deployment `deploymentId` (its stack's name; another stack's keys are
   * foreign); `linkableUsagePlanIds` narrows the links read to the deployment's plans.
   */
  apiKeys?: { deploymentId: string; linkableUsagePlanIds?: readonly string[] };
  /** Checks the pool's app clients. */
  appClients?: ClientCredentialsSettings;
  /** The webhook's claim lease: a repair holds a dead create's claim this long. */
  leaseMs: number;
  region?: string;
  /** Pace calls under AWS's rate limits (default); off only against local stand-ins. */
  rateLimited?: boolean;
  /** The machine's own clock (default Date.now); leases are judged by the registry's, read off its answers. */
  clock?: () => number;
}

export interface AuditOptions {
  /** Repair what can be repaired; without `apply`, only say what would be done. */
  repair?: boolean;
  apply?: boolean;
  onProgress?: (progress: InventoryProgress) => void;
  /** Called after each repair, in order. */
  onRepair?: (result: RepairResult) => void | Promise<void>;
  /**
   * Where an orphan's deletion is recorded: it changes no registry record, so the registry's stream,
   * which records every other repair, never sees it.
   */
  history?: HistoryRecorder;
  /** Stops repairing between two actions (Ctrl-C): what is done stays done, a later run does the rest. */
  signal?: AbortSignal;
  /**
   * Acknowledges one current finding as a known exception (recorded in the registry table, where the
   * scheduled audit sees it too); refused when no current finding is the one it names.
   */
  acknowledge?: AcknowledgementRequest;
  now?: () => number;
}

export interface AuditRun {
  report: AuditReport;
  repairs: RepairResult[];
  /** Repairs not started because the run was stopped. */
  notStarted: number;
  /** AWS calls made, by service and operation (every attempt). */
  calls: Record<string, number>;
  /** What became of `acknowledge`: recorded, or why not. */
  acknowledgement?: { recorded: true; acknowledgement: Acknowledgement } | { recorded: false; detail: string };
}

/**
 * The audit both the operator command and the scheduled function run: read the registry
 * and AWS, report the drift, and optionally repair it, one action at a time.
 */
/** A key no app can have (app keys never start with `#`): read only for the registry's clock. */
const registryClockProbe = '#clock';

export class Audit {
  private readonly apiGatewayCalls: RateLimitedCalls;
  private readonly cognitoCalls: RateLimitedCalls;
  private readonly dynamoDbCalls = new RateLimitedCalls(undefined);
  private readonly apiGateway: APIGatewayClient;
  private readonly cognito: CognitoIdentityProviderClient;
  private readonly documents: DynamoDBDocumentClient;
  readonly registry: Registry;
  private readonly registryClock: ServerClock;

  constructor(private readonly target: AuditTarget) {
    const limited = target.rateLimited ?? true;
    const settings = { ...awsClientSettings, ...(target.region ? { region: target.region } : {}) };
    this.apiGatewayCalls = new RateLimitedCalls(limited ? apiGatewayRates : undefined);
    this.cognitoCalls = new RateLimitedCalls(limited ? cognitoRates : undefined);
    this.apiGateway = new APIGatewayClient(settings);
    this.cognito = new CognitoIdentityProviderClient(settings);
    const dynamodb = new DynamoDBClient(settings);
    this.apiGatewayCalls.attachTo(this.apiGateway);
    this.cognitoCalls.attachTo(this.cognito);
    this.dynamoDbCalls.attachTo(dynamodb);
    // Repairs obey their turn as portal calls do: a run that slept past a lease acts no more.
    for (const client of [this.apiGateway, this.cognito, dynamodb]) client.middlewareStack.use(fencedByTurns);
    this.registryClock = new ServerClock(target.clock);
    dynamodb.middlewareStack.use(this.registryClock.plugin);
    this.documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    this.registry = new Registry(this.documents, target.registryTableName);
  }

  async run(options: AuditOptions = {}): Promise<AuditRun> {
    const { target } = this;
    // Leases are judged by the registry's clock, not this machine's: one read sets it before the registry is judged.
    const now = options.now ?? this.registryClock.now;
    await this.registry.get(registryClockProbe);
    const inventory = await readInventory({
      registry: this.registry,
      ...(target.apiKeys ? { apiKeys: { client: this.apiGateway, ...target.apiKeys } } : {}),
      ...(target.appClients
        ? {
            appClients: {
              client: this.cognito,
              userPoolId: target.appClients.userPoolId,
              ...(target.appClients.deploymentId ? { deploymentId: target.appClients.deploymentId } : {}),
            },
          }
        : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      now,
    });
    const linkableOnly = target.apiKeys?.linkableUsagePlanIds !== undefined;
    let report = findDrift(inventory, linkableOnly);
    let acknowledgement: AuditRun['acknowledgement'];
    if (options.acknowledge) {
      const request = options.acknowledge;
      const named = [...report.drift, ...report.acknowledged].find((finding) => acknowledges(request, finding));
      if (!named) {
        acknowledgement = { recorded: false, detail: `no current ${request.kind} finding names ${request.subject}: nothing acknowledged` };
      } else {
        const recorded = await recordAcknowledgement(this.documents, target.registryTableName, request, inventory.readAt);
        inventory.acknowledgements = [...inventory.acknowledgements.filter((known) => !acknowledges(known, named)), recorded];
        report = findDrift(inventory, linkableOnly);
        acknowledgement = { recorded: true, acknowledgement: recorded };
      }
    }
    const repairs: RepairResult[] = [];
    let notStarted = 0;
    if (options.repair) {
      const repairable = report.drift.filter((drift: Drift) => repairKindOf(drift));
      const deps = {
        registry: this.registry,
        provisioners: this.provisioners(),
        exists: (type: CredentialType, id: string) => this.exists(type, id),
        leaseMs: target.leaseMs,
        now,
      };
      for (const [index, drift] of repairable.entries()) {
        if (options.signal?.aborted) {
          notStarted = repairable.length - index;
          break;
        }
        const result = await repair(drift, deps, options.apply ?? false);
        if (!result) continue;
        repairs.push(result);
        // Repairs that change a record are recorded from the registry's stream; deleting an orphan changes none.
        if (result.outcome === 'APPLIED' && result.action === 'DELETE_ORPHAN' && result.appKey && result.credentialId) {
          const { appKey, action, credentialType, credentialId } = result;
          await options.history?.record(historyEntry({ appKey, action, credentialType, credentialId, deletedCredentialIds: [credentialId] }));
        }
        await options.onRepair?.(result);
      }
    }
    return { report, repairs, notStarted, calls: this.calls(), ...(acknowledgement ? { acknowledgement } : {}) };
  }

  calls(): Record<string, number> {
    const named = (service: string, calls: RateLimitedCalls) =>
      [...calls.counts].map(([operation, count]) => [`${service}:${operation}`, count] as const);
    return Object.fromEntries(
      [...named('dynamodb', this.dynamoDbCalls), ...named('apigateway', this.apiGatewayCalls), ...named('cognito-idp', this.cognitoCalls)].sort(
        ([a], [b]) => a.localeCompare(b),
      ),
    );
  }

  /** The history table on the audit's own DynamoDB client. */
  historyStore(tableName: string, retentionDays: number): HistoryStore {
    return new HistoryStore(this.documents, tableName, retentionDays);
  }

  destroy(): void {
    this.apiGateway.destroy();
    this.cognito.destroy();
    this.documents.destroy();
  }

  /** The webhook's own provisioners, on the audit's rate-limited clients. */
  private provisioners(): Map<CredentialType, Provisioner> {
    const provisioners = new Map<CredentialType, Provisioner>();
    if (this.target.apiKeys)
      provisioners.set(
        'API_KEY',
        new ApiKeyProvisioner(
          this.apiGateway,
          new UsagePlanCatalog(this.apiGateway),
          this.target.apiKeys.linkableUsagePlanIds,
          this.target.apiKeys.deploymentId,
        ),
      );
    if (this.target.appClients) provisioners.set('CLIENT_CREDENTIALS', new ClientCredentialsProvisioner(this.cognito, this.target.appClients));
    return provisioners;
  }

  private async exists(type: CredentialType, credentialId: string): Promise<boolean> {
    try {
      if (type === 'API_KEY') await this.apiGateway.send(new GetApiKeyCommand({ apiKey: credentialId, includeValue: false }));
      // The answer carries the client's secret; it is dropped unread.
      else await this.cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: this.target.appClients?.userPoolId, ClientId: credentialId }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
