/**
 * A synthesized template without what differs by design between two apps of the same settings: asset
 * hashes (each app stages its bundles) and cdk-nag's acknowledgements (this repository's app adds them).
 */
export const comparableTemplate = (template: unknown) => {
  const copy = JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}\.zip/g, 'ASSET.zip')) as {
    Resources: Record<string, { Type: string; Metadata?: Record<string, unknown> }>;
    Outputs?: Record<string, unknown>;
  };
  for (const resource of Object.values(copy.Resources)) {
    delete resource.Metadata?.cdk_nag;
    if (resource.Metadata && Object.keys(resource.Metadata).length === 0) delete resource.Metadata;
  }
  return copy;
};
