/**
 * The names the functions log and publish metrics under; the stack's dashboard reads the same.
 * The service name is also the default Basic realm and the `managed-by` tag of every API key the
 * webhook made, which its IAM grants and the audit rely on: changing it disowns the keys already issued.
 */
export const serviceName = 'portal-credentials-webhook';
export const metricsNamespace = 'PortalCredentialsWebhook';

/** The dimensions of the `Requests` metric, besides the `service` Powertools adds to every metric. */
export const requestDimensions = ['route', 'outcome', 'credentialType'] as const;
