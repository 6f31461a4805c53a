/**
 * The package's one entry point: the webhook construct, its props and settings, and what a consumer
 * needs to wire it (its outputs; the caller client or role of each authentication scheme are on
 * `webhook.authentication`). This repository's own stack (portal-credentials-webhook-stack.ts) uses nothing else.
 */
export {
  type ClientCredentialsOptions,
  PortalCredentialsWebhook,
  type PortalCredentialsWebhookProps,
  type WebhookFunctions,
  type WebhookThrottling,
} from './portal-credentials-webhook.ts';
export { parseSettings, SETTINGS_CONTEXT_KEY, Settings, type SettingsInput } from './settings.ts';
export { webhookPropsFromSettings } from './settings-props.ts';
export { addWebhookOutputs } from './webhook-outputs.ts';
export { webhookDefaults } from './webhook-defaults.ts';
export { type AccessTokenIssuer, WebhookAuthentication, type WebhookAuthenticationOptions } from './webhook-authentication.ts';
export { ChangeHistory } from './change-history.ts';
export { DriftAudit } from './drift-audit.ts';
export { SampleProtectedApi } from './sample-protected-api.ts';
export { WebhookMonitoring } from './webhook-monitoring.ts';
export { PortalCredentialsTargetRole, type PortalCredentialsTargetRoleProps } from './target-role.ts';
