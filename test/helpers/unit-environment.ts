/** The configuration every unit test's handlers cold-start with; AWS itself is mocked. */
Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  REGISTRY_TABLE_NAME: 'registry',
  BASIC_AUTH_SECRET_ID: 'basic-auth',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_DEV: 'false',
  POWERTOOLS_METRICS_DISABLED: 'true',
});
