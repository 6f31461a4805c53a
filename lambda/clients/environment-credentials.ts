import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The SDK's default credential chain, as deployed: infra/function-bundling.ts puts this module
 * in place of @aws-sdk/credential-provider-node in the functions' bundles. Lambda hands a
 * function its execution role's credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, the first link of the default chain, so its other links (profiles, SSO,
 * web identity, container and instance metadata, and the STS and SSO clients they carry:
 * 117-132 KB of each bundle, measured by npm run bench) never run there. Local commands and tests import the SDK as published and keep
 * the whole chain.
 */
export const defaultProvider = fromEnv;
