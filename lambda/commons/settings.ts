import { loadConfig } from './config.ts';

/** This container's configuration, validated once at cold start. */
export const settings = loadConfig(process.env);
