import { apiGatewayIn } from '#clients/api-gateway';
import { APIGatewayClient, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient, DescribeUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { ServerClock } from '#clients/server-clock';
import { fencedByTurns } from '#clients/turns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from '#clients/retry-settings';
import { functionDefaults } from '#commons/defaults';
import { type Place, type PlaceId, type ProvisioningTarget, placeId } from '#commons/places';
import type { CredentialType } from '#contract/schemas';
import { UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import { ApiKeyProvisioner } from '#provisioning/api-key-provisioner';
import type { ApiKeysInPlace } from '#provisioning/api-keys-in-place';
import { CapacityGauges } from '#provisioning/capacity';
import { isNotFound } from '#provisioning/aws-failures';
import { ClientCredentialsProvisioner, type ClientCredentialsSettings } from '#provisioning/client-credentials-provisioner';
import type { Provisioner } from '#provisioning/provisioner';
import { Registry } from '#provisioning/registry';
import { historyEntry, type HistoryRecorder } from '#history/history-entry';
import { HistoryStore } from '#history/history-store';
import { readAppClientsQuota } from './applied-quota.ts';
import { type Acknowledgement, type AcknowledgementRequest, acknowledges, recordAcknowledgement } from './acknowledgements.ts';
import { type AuditReport, type Drift, findDrift } from './drift.ts';
import { deploymentGauges, type GaugeLevel, reconcileGauges } from './gauges.ts';
import { type InventoryProgress, readInventory } from './inventory.ts';
import { placesElsewhere } from '#provisioning/key-places';
import { apiGatewayRates, cognitoRates, RateLimitedCalls } from './rate-limiter.ts';
import { type RepairResult, repair, repairKindOf } from './repair.ts';

/** What the audit looks at: the deployment's registry, and the AWS credential kinds it issues. */
export interface AuditTarget {
  registryTableName: string;
  /**
   * Checks the API keys of deployment `deploymentId` (its stack's name; another stack's keys are
   * foreign); `linkableUsagePlanIds` (as grants name them) narrows the links read to the deployment's plans.
   * `home` is the webhook's own place (default: the default account, and `region`); `targets` the provisioning
   * targets of its credential policy: every place they cover is audited too, reached as the functions reach it.
   */
  apiKeys?: { deploymentId: string; linkableUsagePlanIds?: readonly string[]; home?: Place; targets?: readonly ProvisioningTarget[] };
  /** Checks the pool's app clients. */
  appClients?: ClientCredentialsSettings;
  /**
   * The pool's quota of app clients, for its capacity gauge (default: Cognito's default). The audit compares it
   * with the quota Service Quotas applies in the pool's account and Region, and reports a difference; it never
   * counts against the applied value by itself.
   */
  appClientsLimit?: number;
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
  /** The capacity gauges as the audit left them, reconciled to the registry. */
  gauges: GaugeLevel[];
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
  /** A handful of reads a run: counted, not paced. */
  private readonly serviceQuotasCalls = new RateLimitedCalls(undefined);
  /** Reads the pool's applied quota of app clients; only when the audit checks app clients. */
  private readonly serviceQuotas: ServiceQuotasClient | undefined;
  private readonly apiGateway: APIGatewayClient;
  /** Every place the audit reads API keys in, home first, each with its own client (AWS's rate limits are per account and Region). */
  private readonly places: { place: Place; client: APIGatewayClient; calls: RateLimitedCalls }[];
  /** The webhook's own provisioner of API keys in every place, on the audit's rate-limited clients: what the repairs act through. */
  private readonly apiKeys: ApiKeyProvisioner | undefined;
  private readonly home: Place;
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
    this.home = target.apiKeys?.home ?? { account: functionDefaults.accountId, region: target.region ?? functionDefaults.region };
    const deploymentId = target.apiKeys?.deploymentId ?? functionDefaults.deploymentId;
    const elsewhere = placesElsewhere(this.home, target.apiKeys?.targets).map((reached) => {
      const client = apiGatewayIn(reached.place, reached.target, deploymentId, this.home.region);
      const calls = new RateLimitedCalls(limited ? apiGatewayRates : undefined);
      calls.attachTo(client);
      return { place: reached.place, client, calls };
    });
    this.places = [{ place: this.home, client: this.apiGateway, calls: this.apiGatewayCalls }, ...elsewhere];
    this.apiKeys =
      target.apiKeys &&
      new ApiKeyProvisioner(this.apiGateway, new UsagePlanCatalog(this.apiGateway), target.apiKeys.linkableUsagePlanIds, deploymentId, {
        home: this.home,
        elsewhere: elsewhere.map(({ place, client }) => ({ place, apiGateway: client, usagePlans: new UsagePlanCatalog(client) })),
      });
    this.cognitoCalls.attachTo(this.cognito);
    this.dynamoDbCalls.attachTo(dynamodb);
    // The pool lives in the audit's Region (the webhook's own): its quota is read there.
    if (target.appClients) {
      this.serviceQuotas = new ServiceQuotasClient(settings);
      this.serviceQuotasCalls.attachTo(this.serviceQuotas);
    }
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
      ...(target.apiKeys
        ? {
            apiKeys: {
              client: this.apiGateway,
              deploymentId: target.apiKeys.deploymentId,
              ...(target.apiKeys.linkableUsagePlanIds ? { linkableUsagePlanIds: target.apiKeys.linkableUsagePlanIds } : {}),
              home: this.home,
              elsewhere: this.places.slice(1).map(({ place, client }) => ({ place, client })),
            },
          }
        : {}),
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
        exists: (type: CredentialType, id: string, place?: PlaceId) => this.exists(type, id, place),
        whereaboutsIn: (id: string, place: PlaceId) => this.keysIn(place).whereabouts(id),
        shareOneValue: (placedIds: Readonly<Record<PlaceId, string>>) => this.apiKeysChecked().shareOneValue(placedIds),
        home: this.home,
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
    // After the repairs, which may end an app's credential: the gauges count what is left.
    const gauges = await this.reconcileGauges(now);
    return { report, repairs, notStarted, calls: this.calls(), gauges, ...(acknowledgement ? { acknowledgement } : {}) };
  }

  /**
   * Every gauge the deployment has, reconciled to the registry (its level is what the scheduled audit publishes);
   * the app clients' gauge with the quota Service Quotas applies beside its configured limit.
   */
  private async reconcileGauges(now: () => number): Promise<GaugeLevel[]> {
    const { target } = this;
    const gauges = deploymentGauges(
      target.apiKeys ? this.places.map(({ place }) => place) : [],
      target.appClients
        ? { userPoolId: target.appClients.userPoolId, ...(target.appClientsLimit ? { limit: target.appClientsLimit } : {}) }
        : undefined,
    );
    const [levels, applied] = await Promise.all([
      reconcileGauges(new CapacityGauges(this.documents, target.registryTableName), gauges, this.registry, { home: this.home, now }),
      this.serviceQuotas ? readAppClientsQuota(this.serviceQuotas) : undefined,
    ]);
    return levels.map((level) => (level.quota === 'appClients' && applied ? { ...level, applied } : level));
  }

  calls(): Record<string, number> {
    const named = (service: string, calls: RateLimitedCalls) =>
      [...calls.counts].map(([operation, count]) => [`${service}:${operation}`, count] as const);
    const totals = new Map<string, number>();
    const apiGateway = this.places.flatMap(({ calls }) => named('apigateway', calls));
    for (const [name, count] of [
      ...named('dynamodb', this.dynamoDbCalls),
      ...apiGateway,
      ...named('cognito-idp', this.cognitoCalls),
      ...named('servicequotas', this.serviceQuotasCalls),
    ]) {
      totals.set(name, (totals.get(name) ?? 0) + count);
    }
    return Object.fromEntries([...totals].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** The history table on the audit's own DynamoDB client. */
  historyStore(tableName: string, retentionDays: number): HistoryStore {
    return new HistoryStore(this.documents, tableName, retentionDays);
  }

  destroy(): void {
    for (const { client } of this.places) client.destroy();
    this.cognito.destroy();
    this.serviceQuotas?.destroy();
    this.documents.destroy();
  }

  /** The webhook's own provisioners, on the audit's rate-limited clients. */
  private provisioners(): Map<CredentialType, Provisioner> {
    const provisioners = new Map<CredentialType, Provisioner>();
    if (this.apiKeys) provisioners.set('API_KEY', this.apiKeys);
    if (this.target.appClients) provisioners.set('CLIENT_CREDENTIALS', new ClientCredentialsProvisioner(this.cognito, this.target.appClients));
    return provisioners;
  }

  private apiKeysChecked(): ApiKeyProvisioner {
    if (!this.apiKeys) throw new Error('the audit does not check API keys');
    return this.apiKeys;
  }

  private keysIn(place: PlaceId): ApiKeysInPlace {
    return this.apiKeysChecked().keysIn(place);
  }

  private async exists(type: CredentialType, credentialId: string, place?: PlaceId): Promise<boolean> {
    const client = type === 'API_KEY' && place ? this.places.find((reached) => placeId(reached.place) === place)?.client : this.apiGateway;
    if (!client) throw new Error(`the audit does not reach ${place}`);
    try {
      if (type === 'API_KEY') await client.send(new GetApiKeyCommand({ apiKey: credentialId, includeValue: false }));
      // The answer carries the client's secret; it is dropped unread.
      else await this.cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: this.target.appClients?.userPoolId, ClientId: credentialId }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
