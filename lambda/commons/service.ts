/** The names the functions log and publish metrics under; the stack's dashboard reads the same. */
export const serviceName = 'portal-credentials-webhook';
export const metricsNamespace = 'PortalCredentialsWebhook';

/** The dimensions of the `Requests` metric, besides the `service` Powertools adds to every metric. */
export const requestDimensions = ['route', 'outcome', 'credentialType'] as const;
