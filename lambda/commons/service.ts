/** The names the functions log and publish metrics under; the stack's dashboard reads the same. */
export const serviceName = 'portal-credentials-webhook';
export const metricsNamespace = 'PortalCredentialsWebhook';
